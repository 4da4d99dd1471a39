/**
 * The telephone audio front end: pure Java, no Kafka types, no I/O except {@link
 * io.callvec.audio.WavFile} and {@link io.callvec.audio.WavWriter}.
 *
 * <p>Entry point: {@link io.callvec.audio.ChannelFrontEnd}, one per call x channel:
 * {@code accept(AudioChunk)} returns the {@link io.callvec.audio.AudioWindow}s completed,
 * {@code finish()} the last ones, {@code toBytes()}/{@code fromBytes()} the whole state. It chains
 *
 * <ol>
 *   <li>{@link io.callvec.audio.AudioDecoder} / {@link io.callvec.audio.G711}: G.711 mu-law, A-law and
 *       16-bit little-endian PCM payloads to floats in [-1, 1) (value / 32768), validated;
 *   <li>{@link io.callvec.audio.CallAssembler}: chunks placed by media timestamp on the call's
 *       timeline at the source rate, reordered within a bounded lateness, deduplicated by sequence
 *       number, short gaps filled with silence, long gaps starting a new run;
 *   <li>{@link io.callvec.audio.Resampler}: streaming polyphase Kaiser-windowed-sinc resampling to 16
 *       kHz with compensated delay (restarted at each run);
 *   <li>{@link io.callvec.audio.Segmenter}: fixed windows (default 5 s, hop 5 s) on the 16 kHz
 *       timeline, a final partial window of at least 1 s at the end of a run.
 * </ol>
 *
 * <p>Units: "samples" counts samples of one channel (at the source rate before the resampler, at 16
 * kHz after it), "bytes" payload bytes, "ms" milliseconds, "Hz" sample rates. Timeline positions are
 * samples since the call's timestamp 0. Errors in input are {@link
 * io.callvec.audio.AudioFormatException} (with a stable {@link
 * io.callvec.audio.AudioFormatException.Reason}); errors in stored state are {@link
 * io.callvec.audio.AudioStateException}. No class here is thread-safe; state formats are compact,
 * little-endian, headed by the magic "CV", a kind byte and a version byte.
 */
package io.callvec.audio;

package io.callvec.audio;

/**
 * Counters of one {@link ChannelFrontEnd} since its call x channel started (they survive state round
 * trips). Source samples are at the chunk's sample rate; output samples at 16 kHz.
 *
 * @param chunks chunks accepted (not duplicates; rejected payloads are never counted here)
 * @param sourceSamples samples in accepted chunks, source rate
 * @param duplicateChunks chunks dropped because their sequence number was already accepted
 * @param lateChunks chunks dropped because their position had already been emitted
 * @param lateSamples samples of those late chunks, source rate
 * @param overlapSamples samples dropped because other audio already covered their position, source rate
 * @param gapsFilled gaps filled with silence
 * @param gapFilledSamples silence inserted into those gaps, source-rate samples
 * @param longGaps gaps longer than the maximum fill, each of which started a new run
 * @param runs runs of contiguous audio started (the first one included)
 * @param outputSamples samples produced at 16 kHz
 * @param windows windows emitted (partial ones included)
 * @param partialWindows final partial windows emitted
 * @param droppedTailSamples 16 kHz samples at run ends too short for a final window
 */
public record FrontEndCounters(
    long chunks,
    long sourceSamples,
    long duplicateChunks,
    long lateChunks,
    long lateSamples,
    long overlapSamples,
    long gapsFilled,
    long gapFilledSamples,
    long longGaps,
    long runs,
    long outputSamples,
    long windows,
    long partialWindows,
    long droppedTailSamples) {}

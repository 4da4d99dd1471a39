package io.callvec.topology.chunks;

import io.callvec.audio.AudioFormatException;
import io.callvec.audio.AudioWindow;
import io.callvec.audio.ChannelFrontEnd;
import io.callvec.audio.FrontEndConfig;
import io.callvec.schemas.AudioChunk;
import java.util.ArrayList;
import java.util.List;

/**
 * The windows that the offline front end (buffered mode: the same window rules as the stream's)
 * cuts from a recording sent in order as 20 ms chunks: the reference a stream's output is checked
 * against.
 */
public final class OfflineWindows {
  private OfflineWindows() {}

  /**
   * The windows of {@code recording}, in order, the final (short) window included.
   *
   * @throws AudioFormatException if the recording's encoding or rate is not one the front end takes
   */
  public static List<AudioWindow> of(Recording recording, FrontEndConfig config) throws AudioFormatException {
    ChannelFrontEnd fe = ChannelFrontEnd.create(ChunkMapping.frontEndEncoding(recording.encoding()), recording.sampleRateHz(), config);
    List<AudioWindow> out = new ArrayList<>();
    for (AudioChunk c : Chunker.chunks(recording, Chunker.Options.realTime())) {
      byte[] b = ChunkMapping.payloadBytes(c);
      if (b.length > 0) {
        out.addAll(fe.accept(c.getSequenceNumber(), c.getMediaTimestampMs(), b));
      }
    }
    out.addAll(fe.finish());
    return out;
  }
}

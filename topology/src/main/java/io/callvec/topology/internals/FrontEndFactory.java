package io.callvec.topology.internals;

import io.callvec.schemas.AudioEncoding;

/** Creates and restores per-channel front ends. */
public interface FrontEndFactory {
  /**
   * A fresh front end for a stream of this format.
   *
   * @throws InvalidChunkException if the encoding or rate is not supported
   */
  FrontEndPort create(AudioEncoding encoding, int sampleRateHz) throws InvalidChunkException;

  /** Restores {@link FrontEndPort#toBytes()} output. */
  FrontEndPort restore(AudioEncoding encoding, int sampleRateHz, byte[] state);
}

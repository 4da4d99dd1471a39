package io.callvec.model.vad;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * One Silero VAD per test class: loaded before the class's tests ({@link TestAudio#vad()}: a
 * missing model fails under CI and skips the class elsewhere) and closed after them. Register it
 * as a static field with {@code @RegisterExtension}; {@link #get()} is valid inside the tests.
 */
public final class SharedVad implements BeforeAllCallback, AfterAllCallback {
  private SileroVad vad;

  /** The loaded VAD; null outside the class's tests. */
  public SileroVad get() {
    return vad;
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    vad = TestAudio.vad();
  }

  @Override
  public void afterAll(ExtensionContext context) {
    if (vad != null) {
      vad.close();
      vad = null;
    }
  }
}

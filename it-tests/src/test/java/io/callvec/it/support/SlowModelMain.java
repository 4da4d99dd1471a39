package io.callvec.it.support;

import io.callvec.app.CallvecApp;
import io.callvec.app.CallvecConfig;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;

/**
 * {@code callvec run} with a deliberately slow model ({@link SlowModelEmbedder}), for overload
 * tests as a separate JVM: {@code java -cp <test class path> io.callvec.it.support.SlowModelMain
 * <delay ms per window> --set key=value ...}. SIGTERM closes the app gracefully and exits with 143,
 * as {@code callvec run} does; a stream-thread failure exits with 1.
 */
public final class SlowModelMain {
  private static final Logger log = LoggerFactory.getLogger(SlowModelMain.class);

  private SlowModelMain() {}

  public static void main(String[] args) throws Exception {
    if (args.length < 1) {
      throw new IllegalArgumentException("usage: SlowModelMain <delay ms per window> [--set key=value ...]");
    }
    long delayMs = Long.parseLong(args[0]);
    Map<String, String> settings = new LinkedHashMap<>();
    for (int i = 1; i < args.length; i++) {
      if (!args[i].equals("--set") || i + 1 >= args.length || !args[i + 1].contains("=")) {
        throw new IllegalArgumentException("expected --set key=value at argument " + i + ", got '" + args[i] + "'");
      }
      String kv = args[++i];
      settings.put(kv.substring(0, kv.indexOf('=')), kv.substring(kv.indexOf('=') + 1));
    }
    log.info("slow test model: the real model plus {} ms per window of each batch", delayMs);
    CallvecApp app = CallvecApp.start(CallvecConfig.builder().overrides(settings).build(), m -> new SlowModelEmbedder(m, delayMs));
    AtomicInteger exitCode = new AtomicInteger();
    Signal.handle(new Signal("TERM"), s -> {
      if (exitCode.compareAndSet(0, 128 + s.getNumber())) {
        log.info("SIGTERM received: stopping gracefully");
        new Thread(app::close, "callvec-shutdown").start();
      }
    });
    while (!app.awaitTermination(1, TimeUnit.SECONDS)) {
      // running
    }
    app.close();
    if (app.failure() != null) {
      log.error("callvec stopped after a failure: {}", CallvecApp.causeChain(app.failure()));
      System.exit(1);
    }
    System.exit(exitCode.get());
  }
}

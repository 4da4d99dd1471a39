package io.callvec.cli;

import io.callvec.app.CallvecApp;
import io.callvec.app.CallvecConfig;
import io.callvec.app.KafkaAccessCheck;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import sun.misc.Signal;

/**
 * {@code callvec run}: the streaming application against a Kafka cluster, until SIGTERM/Ctrl-C.
 *
 * <p>SIGTERM and SIGINT are handled here, not by a JVM shutdown hook: the app is closed (Kafka
 * Streams committed, the batcher drained, the model closed) <em>before</em> the JVM starts its
 * shutdown. JVM shutdown hooks run concurrently and in no order, and ONNX Runtime's Java binding
 * registers one that releases its native environment: a graceful close run from a hook raced it,
 * and an inference still running when ONNX Runtime's hook fired crashed the JVM (SIGSEGV, exit
 * 134). The exit code after a signal stays 128 + signal number (143 for SIGTERM, 130 for SIGINT).
 * A shutdown hook remains for other ways out (e.g. {@code System.exit} elsewhere); after a signal
 * it finds the app closed.
 */
@Command(
    name = "run",
    mixinStandardHelpOptions = true,
    description = {
      "Runs the streaming application against a Kafka cluster until stopped (SIGTERM / Ctrl-C).",
      "Configuration, later wins: built-in defaults < --config FILE < CALLVEC_* environment variables < --set KEY=VALUE.",
      "Example: callvec run --set bootstrap.servers=localhost:9092 --set callvec.model.path=models/w2v2.onnx"
    })
public final class RunCommand implements Callable<Integer> {
  private static final Logger log = LoggerFactory.getLogger(RunCommand.class);

  @Mixin ConfigOptions config;

  @Override
  public Integer call() throws Exception {
    CallvecConfig cfg = config.build(System.getenv(), Map.of());
    CallvecApp app;
    try {
      app = CallvecApp.start(cfg);
    } catch (KafkaAccessCheck.KafkaAccessException e) {
      log.error("callvec cannot start: {}", e.getMessage());
      return 1;
    }
    Thread hook = new Thread(app::close, "callvec-shutdown-hook");
    Runtime.getRuntime().addShutdownHook(hook);
    AtomicInteger signalExitCode = new AtomicInteger();
    for (String name : new String[] {"TERM", "INT"}) {
      Signal signal = new Signal(name);
      Signal.handle(signal, s -> {
        if (signalExitCode.compareAndSet(0, 128 + s.getNumber())) {
          log.info("SIG{} received: stopping gracefully", s.getName());
          Thread closer = new Thread(app::close, "callvec-shutdown");
          closer.setDaemon(false);
          closer.start();
        }
      });
    }
    while (!app.awaitTermination(1, TimeUnit.SECONDS)) {
      // running
    }
    app.close();
    if (app.failure() != null) {
      log.error("callvec stopped after a failure: {}", CallvecApp.causeChain(app.failure()));
      return 1;
    }
    return signalExitCode.get();
  }
}

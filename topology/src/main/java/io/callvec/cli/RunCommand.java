package io.callvec.cli;

import io.callvec.app.CallvecApp;
import io.callvec.app.CallvecConfig;
import io.callvec.app.KafkaAccessCheck;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code callvec run}: the streaming application against a Kafka cluster, until SIGTERM/Ctrl-C. */
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
    Thread hook = new Thread(app::close, "callvec-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    while (!app.awaitTermination(1, TimeUnit.SECONDS)) {
      // running
    }
    app.close();
    if (app.failure() != null) {
      log.error("callvec stopped after a failure: {}", CallvecApp.causeChain(app.failure()));
      return 1;
    }
    return 0;
  }
}

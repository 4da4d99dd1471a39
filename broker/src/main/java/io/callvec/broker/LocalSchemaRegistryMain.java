package io.callvec.broker;

import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;

/**
 * {@code ops/registry/start-local.sh}: runs a {@link LocalSchemaRegistry} until SIGTERM / Ctrl-C and
 * prints {@code schema.registry.url=URL} on stdout once it answers.
 *
 * <p>Arguments: {@code [--port P]} (default 8081; 0 = a free port), {@code [--data DIR]} (keep the
 * registry's database in DIR between runs; default a temporary folder deleted on stop). Exit codes:
 * 0 stopped by a signal, 1 the registry did not start, 2 bad usage.
 */
public final class LocalSchemaRegistryMain {
  private LocalSchemaRegistryMain() {}

  public static void main(String[] args) throws InterruptedException {
    int port = 8081;
    Path data = null;
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if ((a.equals("--port") || a.equals("--data")) && i + 1 >= args.length) {
        usage(a + " needs a value");
      }
      switch (a) {
        case "--port" -> {
          try {
            port = Integer.parseInt(args[++i]);
          } catch (NumberFormatException e) {
            usage("--port: not a number: " + args[i]);
          }
          if (port < 0 || port > 65535) {
            usage("--port must be in [0, 65535], was " + port);
          }
        }
        case "--data" -> data = Path.of(args[++i]);
        default -> usage("unknown option " + a);
      }
    }
    LocalSchemaRegistry registry;
    try {
      registry = LocalSchemaRegistry.start(LocalSchemaRegistry.locateHome(), port, data);
    } catch (LocalKafkaException e) {
      System.err.println("start-local.sh: " + e.getMessage());
      System.exit(1);
      return;
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      registry.close();
      stopped.countDown();
    }, "callvec-registry-stop"));
    System.out.println("schema.registry.url=" + registry.url());
    System.out.flush();
    stopped.await();
  }

  private static void usage(String message) {
    System.err.println("start-local.sh: " + message + " (usage: [--port P] [--data DIR])");
    System.exit(2);
  }
}

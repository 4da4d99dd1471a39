package io.callvec.cli;

import io.callvec.app.CallvecConfig;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Option;

/** The configuration options shared by the commands that run the app (picocli mixin). */
public final class ConfigOptions {
  @Option(names = {"-c", "--config"}, paramLabel = "FILE", description = "Properties file (callvec.* keys and any Kafka Streams/consumer/producer key).")
  Path configFile;

  @Option(names = {"-s", "--set"}, paramLabel = "KEY=VALUE", description = "Override one setting (repeatable); wins over the file and CALLVEC_* environment variables.")
  Map<String, String> overrides = new LinkedHashMap<>();

  /** defaults < file < environment < --set < {@code forced} (values the command itself must set). */
  CallvecConfig build(Map<String, String> environment, Map<String, String> forcedDefaults) {
    CallvecConfig.Builder b = CallvecConfig.builder();
    b.overrides(forcedDefaults);
    if (configFile != null) {
      b.file(configFile);
    }
    return b.environment(environment).overrides(overrides).build();
  }
}

package io.callvec.cli;

import io.callvec.gateway.IngestCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code callvec} command line: {@code java -jar cli/target/callvec.jar <subcommand>}.
 *
 * <p>Each subcommand is a class of its own in this package; this class only names them. Exit codes:
 * 0 success, 1 a failure while running, 2 bad usage (picocli's default).
 */
@Command(
    name = "callvec",
    mixinStandardHelpOptions = true,
    versionProvider = CallvecCli.Version.class,
    description = "Live telephone calls to speech embeddings.",
    subcommands = {
      CommandLine.HelpCommand.class,
      RunCommand.class,
      DemoCommand.class,
      ReplayCommand.class,
      TopicsCommand.class,
      ConvertCommand.class,
      EmbedCommand.class,
      IngestCommand.class
    })
public final class CallvecCli implements Runnable {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "Missing subcommand");
  }

  public static void main(String[] args) {
    System.exit(newCommandLine().execute(args));
  }

  /** The command line with all subcommands, for {@link #main} and for tests. */
  public static CommandLine newCommandLine() {
    return new CommandLine(new CallvecCli());
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = CallvecCli.class.getPackage().getImplementationVersion();
      return new String[] {"callvec " + (v == null ? "dev" : v)};
    }
  }
}

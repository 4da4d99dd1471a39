package io.callvec.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import picocli.CommandLine;

/**
 * One in-process run of a picocli command with its stdout and stderr captured: the CLI tests'
 * way to run {@code callvec <subcommand>} as a user would, without a child JVM.
 *
 * @param exit the exit code (0 done, 1 failure, 2 bad usage)
 * @param out what the command printed on its stdout
 * @param err what it printed on its stderr
 */
public record CommandRun(int exit, String out, String err) {

  /** Runs {@code callvec args...} through {@link CallvecCli#newCommandLine()}. */
  public static CommandRun callvec(String... args) {
    return of(CallvecCli.newCommandLine(), args);
  }

  /** Runs {@code args} through the given command line. */
  public static CommandRun of(CommandLine cl, String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    int exit = cl.execute(args);
    return new CommandRun(exit, out.toString(), err.toString());
  }
}

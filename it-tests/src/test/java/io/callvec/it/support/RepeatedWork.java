package io.callvec.it.support;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Work done twice after tasks moved: windows the instances' batchers embedded, over the segments
 * delivered. Each instance logs its own totals when it closes gracefully ({@code callvec totals at
 * close: windows_embedded=N segments_emitted=M}, {@code CallvecApp.close}); an instance killed with
 * {@code kill -9} logs nothing, so use this only where every incarnation was stopped gracefully.
 */
public final class RepeatedWork {
  private static final Pattern TOTALS = Pattern.compile("callvec totals at close: windows_embedded=(\\d+) segments_emitted=(\\d+)");

  private RepeatedWork() {}

  /**
   * Windows embedded by all {@code incarnations} together, from their close lines.
   *
   * @throws AssertionError if an incarnation has no close line (it did not stop gracefully)
   */
  public static long windowsEmbedded(List<AppInstance> incarnations) {
    long sum = 0;
    for (AppInstance i : incarnations) {
      Matcher m = TOTALS.matcher(i.log());
      if (!m.find()) {
        throw new AssertionError("app instance " + i.name() + " logged no totals at close (not stopped gracefully?)\n" + i.logTail(20));
      }
      sum += Long.parseLong(m.group(1));
    }
    return sum;
  }
}

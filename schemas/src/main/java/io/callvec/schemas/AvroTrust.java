package io.callvec.schemas;

import org.apache.avro.specific.AvroGenerated;
import org.apache.avro.util.ClassSecurityValidator;
import org.apache.avro.util.ClassSecurityValidator.ClassSecurityPredicate;

/**
 * Lets Avro 1.12 instantiate the generated classes of this package when it decodes.
 *
 * <p>Avro 1.12.2 refuses to load any class that is not explicitly trusted while it decodes into
 * specific records ({@code SecurityException: Forbidden io.callvec.schemas.AudioChunk}). There are
 * two ways to trust the classes of {@value #TRUSTED_PACKAGE}:
 *
 * <ul>
 *   <li>at JVM start: {@code -Dorg.apache.avro.SERIALIZABLE_PACKAGES=io.callvec.schemas} (read once,
 *       when Avro's validator class loads; setting the property later has no effect);
 *   <li>at run time: {@link #install()}, which composes Avro's global validator with a predicate
 *       that trusts exactly the {@link AvroGenerated} classes of {@value #TRUSTED_PACKAGE}. It works
 *       whenever it is called, before or after Avro's classes loaded, and keeps whatever the global
 *       validator trusted before.
 * </ul>
 *
 * <p>The serdes of {@code io.callvec.schemas.serde} call {@link #install()} themselves, so code that
 * decodes through them needs neither.
 */
public final class AvroTrust {

  /** The package whose Avro-generated classes {@link #install()} trusts (and its sub-packages). */
  public static final String TRUSTED_PACKAGE = "io.callvec.schemas";

  /** The system property Avro reads once at class-load time to trust whole packages. */
  public static final String SERIALIZABLE_PACKAGES_PROPERTY = "org.apache.avro.SERIALIZABLE_PACKAGES";

  private static boolean installed;

  private AvroTrust() {}

  /**
   * Trusts the {@link AvroGenerated} classes of {@value #TRUSTED_PACKAGE} in Avro's global class
   * validator, in addition to whatever it already trusts. Idempotent and thread-safe; cheap after
   * the first call.
   */
  public static synchronized void install() {
    if (installed) {
      return;
    }
    ClassSecurityPredicate previous = ClassSecurityValidator.getGlobal();
    ClassSecurityValidator.setGlobal(ClassSecurityValidator.composite(previous, AvroTrust::isCallvecGenerated));
    installed = true;
  }

  /**
   * Whether {@code type} is a class that {@link #install()} trusts: an {@link AvroGenerated} class
   * (record or enum) in {@value #TRUSTED_PACKAGE} or a sub-package.
   */
  public static boolean isCallvecGenerated(Class<?> type) {
    String pkg = type.getPackageName();
    boolean inPackage = pkg.equals(TRUSTED_PACKAGE) || pkg.startsWith(TRUSTED_PACKAGE + ".");
    return inPackage && type.isAnnotationPresent(AvroGenerated.class);
  }
}

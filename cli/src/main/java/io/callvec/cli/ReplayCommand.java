package io.callvec.cli;

import io.callvec.app.Settings;
import io.callvec.audio.AudioFormatException;
import io.callvec.player.AudioFiles;
import io.callvec.player.CallPlayer;
import io.callvec.schemas.AudioChunk;
import io.callvec.schemas.ChunkProducerProperties;
import io.callvec.schemas.registry.ConfluentAvroSerde;
import io.callvec.schemas.registry.RegistryConfig;
import io.callvec.schemas.serde.CallvecSerdes;
import io.callvec.schemas.serde.SerdeFormat;
import io.callvec.topology.chunks.Chunker;
import io.callvec.topology.chunks.Recording;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code callvec replay}: publishes recordings to Kafka as live calls, for load tests on one's own
 * audio. Each file is one call: a stereo WAV gives two streams (channel 0 "agent", channel 1
 * "customer"), a mono WAV or a raw file one stream (channel 0). Every stream is cut into {@code
 * --chunk-ms} chunks (AudioChunk Avro, key = call id, sequence numbers from 0, media timestamps {@code
 * k * chunk-ms}, an empty end-of-stream record last) and all streams are sent interleaved, paced at
 * real time times {@code --speed}, through an idempotent producer ({@code acks=all}); every send is
 * checked, so a run that exits 0 wrote every record.
 *
 * <p>Call ids: {@code --call-id ID} for one file, {@code ID-<n>} (n = the file's position from 0) for
 * several; without it, the file name without its extension and a per-run suffix (the app ignores
 * chunks of a call it has already ended, so a second run must use new ids). {@code --repeat N} plays N
 * copies of every call at once, as {@code <id>-<k>}, k = 0..N-1.
 *
 * <p>Exit codes: 0 every record written, 1 a failure (unreadable audio, Kafka), 2 bad usage.
 */
@Command(
    name = "replay",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Publish recordings as live call audio, for load tests on your own audio: each file becomes one call of AudioChunk"
          + " records (stereo WAV: two channels, agent and customer; raw or mono: channel 0), paced at real time x --speed.",
      "Progress goes to stderr, one summary line to stdout.",
      "Example: callvec replay --bootstrap-servers localhost:9092 --repeat 50 calls/*.wav"
    })
public final class ReplayCommand implements Callable<Integer> {
  private static final Logger log = LoggerFactory.getLogger(ReplayCommand.class);

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Mixin RecordingOptions recording;

  @Option(names = "--bootstrap-servers", paramLabel = "HOST:PORT",
      description = "Kafka brokers (required unless --producer-config sets bootstrap.servers).")
  String bootstrapServers;

  @Option(names = "--topic", paramLabel = "TOPIC", description = "Topic of AudioChunk records (default: callvec.input.topic's default, ${DEFAULT-VALUE}).",
      defaultValue = "callvec.audio-chunks")
  String topic;

  @Option(names = "--producer-config", paramLabel = "FILE",
      description = "Producer properties (security, compression, ...); they win over the defaults acks=all, enable.idempotence=true, linger.ms=5.")
  Path producerConfig;

  @Option(names = "--serde", paramLabel = "FORMAT", defaultValue = "single-object",
      description = "Wire format: single-object (default) or confluent (Schema Registry framing; needs --schema-registry-url or"
          + " schema.registry.url and the other registry keys in --producer-config).")
  String serde;

  @Option(names = "--schema-registry-url", paramLabel = "URL", description = "Schema Registry base URL(s), comma-separated, for --serde confluent.")
  String schemaRegistryUrl;

  @Parameters(arity = "1..*", paramLabel = "FILE", description = "Recordings: WAV (16-bit PCM, mu-law or A-law) or raw mono samples.")
  List<Path> files = new ArrayList<>();

  @Option(names = "--call-id", paramLabel = "ID", description = "Call id (with several files: ID-<n>, n from 0). Default: the file name plus a per-run suffix.")
  String callId;

  @Option(names = "--speed", defaultValue = "1.0", paramLabel = "X", description = "Pace: 1 = real time (default), 10 = ten times faster, 0 = as fast as possible.")
  double speed;

  @Option(names = "--shuffle", defaultValue = "1", paramLabel = "N",
      description = "Send each stream's chunks in random order within consecutive groups of N (1 = in order, the default), as a jittery network would.")
  int shuffle;

  @Option(names = "--duplicates", defaultValue = "0", paramLabel = "RATE", description = "Fraction of chunks sent twice, 0..1 (default ${DEFAULT-VALUE}).")
  double duplicates;

  @Option(names = "--repeat", defaultValue = "1", paramLabel = "N", description = "Play N copies of every call at once, with call ids <id>-<k> (default ${DEFAULT-VALUE}).")
  int repeat;

  @Option(names = "--seed", defaultValue = "1", paramLabel = "N", description = "Seed of --shuffle and --duplicates (default ${DEFAULT-VALUE}).")
  long seed;

  /** Largest payload the app accepts by default (callvec.max.payload.bytes), bytes. */
  private static final int APP_DEFAULT_MAX_PAYLOAD_BYTES = Integer.parseInt(Settings.MAX_PAYLOAD_BYTES.defaultValue());

  @Override
  public Integer call() throws IOException, InterruptedException {
    validate();
    Properties props = producerProperties();
    String runSuffix = Long.toString(System.currentTimeMillis(), 36);

    List<AudioFiles.Audio> audios = new ArrayList<>();
    List<String> baseIds = new ArrayList<>();
    Map<String, Path> idOwner = new HashMap<>();
    for (int f = 0; f < files.size(); f++) {
      Path file = files.get(f);
      if (!Files.isRegularFile(file)) {
        throw usage(file + ": no such file");
      }
      AudioFiles.Format fmt;
      try {
        fmt = AudioFiles.formatOf(file, recording.format);
      } catch (IllegalArgumentException e) {
        throw usage(e.getMessage());
      }
      AudioFiles.Audio audio;
      try {
        audio = AudioFiles.read(file, fmt, recording.rateHz);
      } catch (AudioFormatException e) {
        return fail("cannot read " + file + " as " + fmt.cliName() + ": " + e.getMessage());
      } catch (IOException e) {
        return fail("cannot read " + file + ": " + e);
      }
      audios.add(audio);
      String id;
      if (callId != null) {
        id = files.size() == 1 ? callId : callId + "-" + f;
      } else {
        id = stem(file) + "-" + runSuffix;
      }
      Path other = idOwner.put(id, file);
      if (other != null) {
        throw usage(other + " and " + file + " would both be call " + id + ": give --call-id");
      }
      baseIds.add(id);
      int chunkBytes = (int) Math.min(Integer.MAX_VALUE,
          ((long) recording.chunkMs * audio.sampleRateHz() + 999) / 1000 * audio.encoding().bytesPerSample());
      if (chunkBytes > APP_DEFAULT_MAX_PAYLOAD_BYTES) {
        log.warn("{}: chunks of {} ms are up to {} bytes, more than the app accepts by default ({} bytes,"
            + " callvec.max.payload.bytes): it would dead-letter them", file, recording.chunkMs, chunkBytes, APP_DEFAULT_MAX_PAYLOAD_BYTES);
      }
    }

    List<Recording> streams = new ArrayList<>();
    for (int f = 0; f < audios.size(); f++) {
      for (int k = 0; k < repeat; k++) {
        String id = repeat == 1 ? baseIds.get(f) : baseIds.get(f) + "-" + k;
        streams.addAll(CallPlayer.streams(audios.get(f), id));
      }
    }
    int calls = audios.size() * repeat;
    double audioTotalS = streams.stream().mapToDouble(s -> (double) s.audio().length / s.bytesPerSample() / s.sampleRateHz()).sum();
    log.info("replaying {} file(s) as {} call(s), {} stream(s), {} s of audio, to {} at {} in {} ms chunks (first call id {})",
        files.size(), calls, streams.size(), String.format(Locale.ROOT, "%.1f", audioTotalS), topic,
        speed == 0 ? "full speed" : speed + "x real time", recording.chunkMs, streams.get(0).callId());

    Chunker.Options options = new Chunker.Options(recording.chunkMs, speed, shuffle, duplicates, seed, 0);
    CallPlayer.PlayStats stats;
    int totalStreams = streams.size();
    long[] lastLogNs = {System.nanoTime()};
    CallPlayer.Progress progress = s -> {
      long now = System.nanoTime();
      if (now - lastLogNs[0] >= (long) (recording.progressS * 1e9)) {
        lastLogNs[0] = now;
        log.info(String.format(Locale.ROOT, "sent %d chunks (%d duplicates), %.1f of %.1f s of audio, %d of %d streams ended, elapsed %.1f s",
            s.records() - s.endOfStreamMarkers(), s.duplicates(), s.audioSeconds(), audioTotalS, s.endOfStreamMarkers(), totalStreams,
            s.elapsedSeconds()));
      }
    };
    Serializer<AudioChunk> valueSerializer;
    try {
      valueSerializer = chunkSerializer(props);
    } catch (ConfigException e) {
      throw usage(e.getMessage());
    }
    try (KafkaProducer<String, AudioChunk> producer = new KafkaProducer<>(props, new StringSerializer(), valueSerializer)) {
      stats = CallPlayer.play(producer, topic, streams, options, progress);
    } catch (KafkaException e) {
      return fail("sending to " + topic + " at " + props.getProperty(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG) + " failed: " + e.getMessage());
    }
    PrintWriter out = spec.commandLine().getOut();
    out.printf(Locale.ROOT,
        "replayed %d file(s) as %d call(s), %d stream(s), to %s: %d records (%d audio chunks, %d duplicates, %d end-of-stream),"
            + " %.3f s of audio in %.2f s (%.1fx real time)%n",
        files.size(), calls, streams.size(), topic, stats.records(), stats.records() - stats.duplicates() - stats.endOfStreamMarkers(),
        stats.duplicates(), stats.endOfStreamMarkers(), stats.audioSeconds(), stats.elapsedSeconds(),
        stats.audioSeconds() / Math.max(stats.elapsedSeconds(), 1e-9));
    out.flush();
    return 0;
  }

  private void validate() {
    recording.validate(spec.commandLine());
    try {
      SerdeFormat.parse(serde);
    } catch (ConfigException e) {
      throw usage("--serde: " + e.getMessage());
    }
    if (!(speed >= 0) || Double.isInfinite(speed)) {
      throw usage("--speed must be >= 0 (0 = as fast as possible), was " + speed);
    }
    if (shuffle < 1) {
      throw usage("--shuffle must be >= 1 (1 = in order), was " + shuffle);
    }
    if (!(duplicates >= 0 && duplicates <= 1)) {
      throw usage("--duplicates must be in [0, 1], was " + duplicates);
    }
    if (repeat < 1) {
      throw usage("--repeat must be >= 1, was " + repeat);
    }
    if (topic.isBlank()) {
      throw usage("--topic must not be empty");
    }
    if (callId != null && callId.isEmpty()) {
      throw usage("--call-id must not be empty");
    }
  }

  /** Defaults, then the file, then --bootstrap-servers ({@link ChunkProducerProperties}). */
  private Properties producerProperties() {
    Properties p;
    try {
      p = ChunkProducerProperties.layered("callvec-replay", Map.of(), producerConfig, bootstrapServers);
    } catch (IllegalArgumentException e) {
      throw usage(e.getMessage());
    }
    if (ChunkProducerProperties.idempotenceDisabled(p)) {
      log.warn("{} disables the idempotent producer: a retried send may write a chunk twice", producerConfig);
    }
    return p;
  }

  /** The chunk serializer of {@code --serde}: single-object, or Confluent-framed on the registry named in {@code props}. */
  private Serializer<AudioChunk> chunkSerializer(Properties props) {
    if (SerdeFormat.parse(serde) == SerdeFormat.SINGLE_OBJECT) {
      return CallvecSerdes.audioChunk().serializer();
    }
    Map<String, Object> registry = new HashMap<>();
    props.stringPropertyNames().forEach(k -> registry.put(k, props.getProperty(k)));
    if (schemaRegistryUrl != null) {
      registry.put(RegistryConfig.URL, schemaRegistryUrl);
    }
    // The registry keys are not producer settings: keep them out of the producer's configuration.
    for (String k : List.copyOf(props.stringPropertyNames())) {
      if (k.startsWith("schema.registry.") || k.startsWith("basic.auth.") || k.equals(RegistryConfig.AUTO_REGISTER) || k.startsWith("callvec.registry.")) {
        props.remove(k);
      }
    }
    return ConfluentAvroSerde.of(AudioChunk.class, registry).serializer();
  }

  /** The file name without its extension, with characters other than letters, digits, '.', '_', '-' replaced by '_'. */
  static String stem(Path file) {
    String name = file.getFileName().toString();
    int dot = name.lastIndexOf('.');
    if (dot > 0) {
      name = name.substring(0, dot);
    }
    return name.replaceAll("[^A-Za-z0-9._-]", "_");
  }

  private CommandLine.ParameterException usage(String message) {
    return new CommandLine.ParameterException(spec.commandLine(), message);
  }

  private int fail(String message) {
    PrintWriter err = spec.commandLine().getErr();
    err.println("callvec replay: " + message);
    err.flush();
    return 1;
  }
}

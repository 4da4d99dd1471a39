package io.callvec.app;

import io.callvec.schemas.registry.RegistryUnavailableException;
import io.callvec.schemas.registry.UnknownSchemaIdException;
import io.callvec.schemas.registry.WrongMagicByteException;
import io.callvec.topology.internals.DeadLetterReason;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.errors.LogAndContinueExceptionHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * callvec's default {@code deserialization.exception.handler}: an input record that cannot be
 * decoded goes to the dead-letter topic (Kafka Streams' own record with its {@code
 * __streams.errors.*} headers, as with {@link LogAndContinueExceptionHandler}) with one more header,
 * {@value #HEADER_DECODE_REASON} = {@link DeadLetterReason#UNKNOWN_SCHEMA_ID}, {@link
 * DeadLetterReason#WRONG_MAGIC_BYTE} or {@link DeadLetterReason#UNDECODABLE}.
 *
 * <p>Except when the Schema Registry is unreachable ({@link RegistryUnavailableException}, after
 * {@code callvec.registry.retry.max.ms} of retries): the record is fine, so it is not
 * dead-lettered; the stream thread fails, nothing is committed past it, and the instance stops
 * with an error naming the registry. A restarted instance reads the record again.
 */
public class DeadLetterDeserializationHandler extends LogAndContinueExceptionHandler {
  private static final Logger log = LoggerFactory.getLogger(DeadLetterDeserializationHandler.class);

  /** Header on deserialisation dead letters: why the value could not be decoded. */
  public static final String HEADER_DECODE_REASON = "callvec.dlq.decode.reason";

  @Override
  public Response handleError(ErrorHandlerContext context, ConsumerRecord<byte[], byte[]> record, Exception exception) {
    if (RegistryUnavailableException.isCause(exception)) {
      log.error("schema registry unreachable while decoding {}-{}@{}: stopping instead of dead-lettering the record: {}",
          record.topic(), record.partition(), record.offset(), exception.getMessage());
      return Response.fail();
    }
    Response response = super.handleError(context, record, exception);
    byte[] reason = reasonOf(exception).name().getBytes(StandardCharsets.UTF_8);
    for (ProducerRecord<byte[], byte[]> dead : response.deadLetterQueueRecords()) {
      dead.headers().add(HEADER_DECODE_REASON, reason);
    }
    return response;
  }

  /** The dead-letter reason of a deserialisation failure. */
  public static DeadLetterReason reasonOf(Throwable exception) {
    for (Throwable c = exception; c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (c instanceof UnknownSchemaIdException) {
        return DeadLetterReason.UNKNOWN_SCHEMA_ID;
      }
      if (c instanceof WrongMagicByteException) {
        return DeadLetterReason.WRONG_MAGIC_BYTE;
      }
    }
    return DeadLetterReason.UNDECODABLE;
  }
}

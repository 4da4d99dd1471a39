package io.callvec.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.callvec.schemas.registry.RegistryUnavailableException;
import io.callvec.schemas.registry.UnknownSchemaIdException;
import io.callvec.schemas.registry.WrongMagicByteException;
import io.callvec.topology.internals.DeadLetterReason;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.streams.errors.DeserializationExceptionHandler;
import org.apache.kafka.streams.errors.StreamsException;
import org.junit.jupiter.api.Test;

class DeadLetterDeserializationHandlerTest {

  @Test
  void reasonsOfDecodingFailures() {
    assertEquals(DeadLetterReason.UNKNOWN_SCHEMA_ID, DeadLetterDeserializationHandler.reasonOf(new UnknownSchemaIdException(7, "x")));
    assertEquals(DeadLetterReason.WRONG_MAGIC_BYTE,
        DeadLetterDeserializationHandler.reasonOf(new StreamsException(new WrongMagicByteException("x"))));
    assertEquals(DeadLetterReason.UNDECODABLE, DeadLetterDeserializationHandler.reasonOf(new SerializationException("corrupt")));
  }

  @Test
  void anUnreachableRegistryFailsInsteadOfDeadLettering() {
    DeadLetterDeserializationHandler h = new DeadLetterDeserializationHandler();
    h.configure(Map.of("errors.dead.letter.queue.topic.name", "dlq"));
    var record = new ConsumerRecord<byte[], byte[]>("in", 0, 5L, new byte[0], new byte[] {0, 0, 0, 0, 9});
    DeserializationExceptionHandler.Response r = h.handleError(null, record,
        new StreamsException(new RegistryUnavailableException("down", null)));
    assertEquals(DeserializationExceptionHandler.Result.FAIL, r.result());
    assertTrue(r.deadLetterQueueRecords().isEmpty());
  }

  @Test
  void theDefaultHandlerAndTheSerdeKeyAreValidated() {
    assertEquals(DeadLetterDeserializationHandler.class.getName(),
        CallvecConfig.defaults().streamsProperties().getProperty("deserialization.exception.handler"));
    CallvecConfig.ConfigException e = assertThrows(CallvecConfig.ConfigException.class,
        () -> CallvecConfig.builder().set("callvec.serde", "protobuf").build());
    assertTrue(e.getMessage().contains("callvec.serde"), e.getMessage());
    assertEquals("confluent", CallvecConfig.builder().set("callvec.serde", "confluent").build().get(Settings.SERDE));
  }
}

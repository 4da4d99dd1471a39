# Reads callvec's segment embeddings (callvec.serde=confluent) with Confluent's Python client.
# Debian: apt-get install python3-confluent-kafka python3-avro python3-numpy
import io, struct, sys
import avro.io, avro.schema, numpy as np
from confluent_kafka import Consumer
from confluent_kafka.schema_registry import SchemaRegistryClient

bootstrap, registry_url = sys.argv[1], sys.argv[2]
registry = SchemaRegistryClient({"url": registry_url})   # + "basic.auth.user.info": "KEY:SECRET" for Confluent Cloud
readers = {}                                              # schema id -> Avro reader (ids never change)

def decode(value):
    magic, schema_id = struct.unpack(">bI", value[:5])    # Confluent framing: 0x00, 4-byte big-endian id
    assert magic == 0, "not Confluent-framed"
    if schema_id not in readers:
        readers[schema_id] = avro.io.DatumReader(avro.schema.parse(registry.get_schema(schema_id).schema_str))
    return readers[schema_id].read(avro.io.BinaryDecoder(io.BytesIO(value[5:])))

consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "vector-reader",
                     "auto.offset.reset": "earliest", "isolation.level": "read_committed"})
consumer.subscribe(["callvec.segment-embeddings"])
seen = 0
while seen < int(sys.argv[3]):
    msg = consumer.poll(10.0)
    if msg is None or msg.error():
        continue
    rec = decode(msg.value())
    v = np.frombuffer(rec["vector"], dtype="<f4")         # float32 little-endian, len == rec["dimension"]
    assert len(v) == rec["dimension"]
    print(rec["callId"], rec["channel"]["name"], rec["startMs"], rec["endMs"], v.shape, np.round(v[:3], 4))
    seen += 1
consumer.close()

// Reads grokstream's released schemas and single-object messages with Apache Avro's Java
// implementation. Usage: java Interop HISTORY_DIR MESSAGE_FILE...
// Prints "schema <dir>/<file> <fingerprint hex>" per schema, then "message <file> <full name> <record>".
import java.nio.file.*;
import java.util.*;
import java.util.stream.*;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.message.BinaryMessageDecoder;

public class Interop {
  public static void main(String[] args) throws Exception {
    Path history = Paths.get(args[0]);
    Map<String, List<Schema>> byName = new TreeMap<>();
    List<Path> files;
    try (Stream<Path> s = Files.walk(history)) {
      files = s.filter(p -> p.toString().endsWith(".avsc")).sorted().collect(Collectors.toList());
    }
    for (Path f : files) {
      Schema schema = new Schema.Parser().parse(new String(Files.readAllBytes(f), "UTF-8"));
      System.out.printf("schema %s %016x%n", history.relativize(f), SchemaNormalization.parsingFingerprint64(schema));
      byName.computeIfAbsent(schema.getFullName(), k -> new ArrayList<>()).add(schema);
    }
    // One decoder per record type that knows every released writer version of it.
    List<BinaryMessageDecoder<GenericRecord>> decoders = new ArrayList<>();
    for (List<Schema> versions : byName.values()) {
      BinaryMessageDecoder<GenericRecord> d = new BinaryMessageDecoder<>(GenericData.get(), versions.get(versions.size() - 1));
      for (Schema v : versions) d.addSchema(v);
      decoders.add(d);
    }
    for (int i = 1; i < args.length; i++) {
      byte[] bytes = Files.readAllBytes(Paths.get(args[i]));
      GenericRecord record = null;
      for (BinaryMessageDecoder<GenericRecord> d : decoders) {
        try {
          record = d.decode(bytes);
          break;
        } catch (org.apache.avro.message.MissingSchemaException e) {
          // not this record type; try the next decoder
        }
      }
      System.out.println("message " + Paths.get(args[i]).getFileName() + " "
          + (record == null ? "UNDECODABLE" : record.getSchema().getFullName() + " " + record));
    }
  }
}

// The two text extraction services the connector speaks, over Tika's own parsers, for the
// tests (see pom.xml for why).
//
// Apache Tika's server (tika-server's REST API):
//   PUT /tika      the file as the body; answers its text (text/plain; charset=UTF-8),
//                  422 when Tika cannot parse it (encrypted, corrupt), 415 for unknown types
//   GET /version   "Apache Tika <version>"
//   GET /tika      the server's greeting, as tika-server answers
//
// Elastic's data extraction service (as Elastic documents it for its connectors):
//   PUT /extract_text/                       the file as the body
//   PUT /extract_text/?local_file_path=PATH  no body: the file at PATH on this machine (the
//                                            directory the connector shares with the service)
//   Both answer JSON: {"extracted_text": "...", "_meta": {"X-ELASTIC:service": "tika",
//   "X-ELASTIC:TIKA:parsed_by": [...]}}; when extraction fails, {"error", "message", "_meta"}
//   with 422 when Tika cannot parse the file (corrupt or encrypted), 200 with an `error` when
//   Tika reports an exception for a file it otherwise read, and 500 for anything else (e.g. a
//   local_file_path that is not there).
//   GET /          the greeting (the service passes it to Tika's)
//
// For the tests only:
//   GET /test-documents/NAME   a file of Tika's own test documents (the tika-parser-microsoft-
//                              module tests jar on the classpath), for formats the tests cannot
//                              generate (legacy Visio)
//
// Run with `java -cp <classpath> TikaServer.java <port>`; binds 127.0.0.1 only.

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.concurrent.Executors;
import org.apache.tika.Tika;
import org.apache.tika.exception.EncryptedDocumentException;
import org.apache.tika.exception.TikaException;
import org.apache.tika.exception.UnsupportedFormatException;
import org.apache.tika.metadata.Metadata;
import org.apache.tika.metadata.TikaCoreProperties;
import org.apache.tika.parser.AutoDetectParser;
import org.apache.tika.parser.ParseContext;
import org.apache.tika.sax.BodyContentHandler;

public class TikaServer {
    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        AutoDetectParser parser = new AutoDetectParser();
        String version = new Tika().toString();
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 64);
        server.setExecutor(Executors.newFixedThreadPool(4));
        server.createContext("/version", ex -> reply(ex, 200, version));
        server.createContext("/extract_text/", ex -> extractText(ex, parser));
        server.createContext("/test-documents/", ex -> {
            String name = ex.getRequestURI().getPath().substring("/test-documents/".length());
            try (InputStream in = name.contains("..") ? null
                    : TikaServer.class.getResourceAsStream("/test-documents/" + name)) {
                if (in == null) {
                    reply(ex, 404, "no test document " + name);
                    return;
                }
                byte[] bytes = in.readAllBytes();
                ex.getResponseHeaders().set("Content-Type", "application/octet-stream");
                ex.sendResponseHeaders(200, bytes.length == 0 ? -1 : bytes.length);
                try (OutputStream out = ex.getResponseBody()) {
                    out.write(bytes);
                }
            }
        });
        server.createContext("/", ex -> {
            if (!"/".equals(ex.getRequestURI().getPath())) {
                reply(ex, 404, "not found");
                return;
            }
            reply(ex, 200, "This is Tika Server (" + version + "). Please PUT");
        });
        server.createContext("/tika", ex -> {
            if ("GET".equals(ex.getRequestMethod())) {
                reply(ex, 200, "This is Tika Server (" + version + "). Please PUT");
                return;
            }
            Metadata metadata = new Metadata();
            String disposition = ex.getRequestHeaders().getFirst("Content-Disposition");
            if (disposition != null && disposition.contains("filename=")) {
                String name = disposition.substring(disposition.indexOf("filename=") + 9).replace("\"", "").trim();
                metadata.set(TikaCoreProperties.RESOURCE_NAME_KEY, name);
            }
            BodyContentHandler handler = new BodyContentHandler(-1);
            try (InputStream body = ex.getRequestBody()) {
                parser.parse(body, handler, metadata, new ParseContext());
                reply(ex, 200, handler.toString());
            } catch (EncryptedDocumentException e) {
                reply(ex, 422, "encrypted document: " + e.getMessage());
            } catch (UnsupportedFormatException e) {
                reply(ex, 415, "unsupported format: " + e.getMessage());
            } catch (TikaException e) {
                reply(ex, 422, "cannot parse: " + e.getMessage());
            } catch (Exception e) {
                reply(ex, 500, "error: " + e);
            }
        });
        server.start();
        System.out.println("Tika server listening on 127.0.0.1:" + port);
    }

    // PUT /extract_text/: Elastic's data extraction service.
    static void extractText(HttpExchange ex, AutoDetectParser parser) throws java.io.IOException {
        if (!"PUT".equals(ex.getRequestMethod())) {
            json(ex, 405, failure("Method Not Allowed", "use PUT"));
            return;
        }
        String localPath = query(ex, "local_file_path");
        Metadata metadata = new Metadata();
        BodyContentHandler handler = new BodyContentHandler(-1);
        try (InputStream body = ex.getRequestBody();
                InputStream in = localPath == null ? body : Files.newInputStream(Path.of(localPath))) {
            if (localPath != null) {
                metadata.set(TikaCoreProperties.RESOURCE_NAME_KEY, Path.of(localPath).getFileName().toString());
            }
            parser.parse(in, handler, metadata, new ParseContext());
        } catch (NoSuchFileException e) {
            json(ex, 500, failure("Unexpected Extraction Failure", "Tikaserver could not extract the file content."));
            return;
        } catch (TikaException e) {
            json(ex, 422, failure("Unprocessable Entity", "Tikaserver could not process file. File may be corrupt or encrypted."));
            return;
        } catch (Exception e) {
            json(ex, 500, failure("Unexpected Extraction Failure", "Tikaserver could not extract the file content."));
            return;
        }
        String exception = metadata.get(TikaCoreProperties.TIKA_META_EXCEPTION_WARNING);
        StringBuilder parsedBy = new StringBuilder("[");
        String[] parsers = metadata.getValues(TikaCoreProperties.TIKA_PARSED_BY);
        for (int i = 0; i < parsers.length; i++) {
            parsedBy.append(i == 0 ? "" : ",").append(quote(parsers[i]));
        }
        parsedBy.append("]");
        String meta = "{\"X-ELASTIC:service\":\"tika\",\"X-ELASTIC:TIKA:parsed_by\":" + parsedBy + "}";
        if (handler.toString().isEmpty() && exception != null) {
            String first = exception.split("\n", 2)[0];
            json(ex, 200, "{\"error\":\"Content Extraction Error\",\"message\":"
                    + quote("X-TIKA:EXCEPTION:warn - " + first) + ",\"_meta\":" + meta + "}");
            return;
        }
        json(ex, 200, "{\"extracted_text\":" + quote(handler.toString()) + ",\"_meta\":" + meta + "}");
    }

    static String failure(String error, String message) {
        return "{\"error\":" + quote(error) + ",\"message\":" + quote(message)
                + ",\"_meta\":{\"X-ELASTIC:service\":\"tika\"}}";
    }

    static String query(HttpExchange ex, String name) {
        String raw = ex.getRequestURI().getRawQuery();
        if (raw == null) {
            return null;
        }
        for (String pair : raw.split("&")) {
            int eq = pair.indexOf('=');
            String key = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
            if (key.equals(name)) {
                return eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            }
        }
        return null;
    }

    static String quote(String text) {
        StringBuilder out = new StringBuilder("\"");
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.append('"').toString();
    }

    static void json(HttpExchange ex, int status, String body) throws java.io.IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }

    static void reply(HttpExchange ex, int status, String text) throws java.io.IOException {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "text/plain; charset=UTF-8");
        ex.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }
}

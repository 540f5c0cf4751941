// The Tika server's REST shape over Tika's own parsers, for the tests (see pom.xml for why).
//
//   PUT /tika      the file as the body; answers its text (text/plain; charset=UTF-8),
//                  422 when Tika cannot parse it (encrypted, corrupt), 415 for unknown types
//   GET /version   "Apache Tika <version>"
//   GET /tika      the server's greeting, as tika-server answers
//
// Run with `java -cp <classpath> TikaServer.java <port>`; binds 127.0.0.1 only.

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
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

    static void reply(HttpExchange ex, int status, String text) throws java.io.IOException {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "text/plain; charset=UTF-8");
        ex.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }
}

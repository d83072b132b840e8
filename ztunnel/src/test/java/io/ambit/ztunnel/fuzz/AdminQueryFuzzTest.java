package io.ambit.ztunnel.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.hbone.transport.Transports;
import io.ambit.ztunnel.admin.AdminRoutes;
import io.ambit.ztunnel.admin.HttpEndpoint;
import io.ambit.ztunnel.admin.LogLevels;
import io.netty.channel.EventLoopGroup;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;
import net.jqwik.api.statistics.Statistics;

/**
 * The admin port's request targets and query parameters ({@code /logging?level=}, {@code ?reset},
 * {@code /config_dump}, {@code /quitquitquit}; ztunnel-reference.md §7.3) over real sockets against the
 * real {@link HttpEndpoint} with {@link AdminRoutes}: paths and queries built from hostile pieces (bad and
 * good percent-escapes, {@code +}, {@code ;}, repeated and empty parameters, level filters with unknown
 * levels, empty or odd logger names, duplicates, hundreds of pairs, spaces and control characters that
 * break the request line), with GET, POST, PUT and an invented method.
 *
 * <p>What must hold: every request gets an answer (never a silent close, never a 500), its status is what
 * an independent model of the routes says (400 naming the problem for a bad target or filter, 404, 405,
 * 200), and the logging backend is changed only by a POST with one well-formed filter — exactly with the
 * levels the model parses out of it — or {@code ?reset}.
 */
class AdminQueryFuzzTest {
    private static final Set<String> LEVELS = Set.of("trace", "debug", "info", "warn", "error", "off");

    private static EventLoopGroup group;
    private static HttpEndpoint endpoint;
    private static final List<Map<String, String>> applied = new CopyOnWriteArrayList<>();
    private static final AtomicInteger resets = new AtomicInteger();
    private static final AtomicInteger quits = new AtomicInteger();

    @BeforeContainer
    static void start() throws Exception {
        var transport = Transports.select();
        group = transport.newEventLoopGroup(1, "admin-fuzz");
        LogLevels levels = new LogLevels() {
            @Override
            public String describe() {
                return "default: info\n";
            }

            @Override
            public void apply(Map<String, String> l) {
                applied.add(Map.copyOf(l));
            }

            @Override
            public void reset() {
                resets.incrementAndGet();
            }
        };
        endpoint = HttpEndpoint.start(
                transport,
                group,
                new InetSocketAddress("127.73.5.1", 0),
                AdminRoutes.of(() -> "{}", levels, quits::incrementAndGet));
    }

    @AfterContainer
    static void stop() throws Exception {
        if (endpoint != null) {
            endpoint.close();
        }
        if (group != null) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    @Property(seed = FuzzInputs.SEED, tries = 500)
    void everyTargetGetsTheAnswerTheRoutesSay(@ForAll("methods") String method, @ForAll("targets") String target)
            throws Exception {
        int appliedBefore = applied.size();
        int resetsBefore = resets.get();
        Expected expected = model(method, target);
        Statistics.label("status").collect(expected.status());
        Statistics.label("status").coverage(c -> {
            for (int s : new int[] {200, 400, 404, 405}) {
                c.check(s).percentage(p -> p >= 2.0);
            }
        });

        String response = exchange(method + " " + target + " HTTP/1.1\r\nhost: admin\r\nconnection: close\r\n\r\n");

        assertThat(response).as("an answer to %s %s", method, target).startsWith("HTTP/1.");
        int status = Integer.parseInt(response.substring(9, 12));
        assertThat(status)
                .as("status for %s %s (body %s)", method, target, body(response))
                .isEqualTo(expected.status());
        if (status == 400) {
            assertThat(body(response)).as("a 400 says what was wrong").isNotBlank();
        }
        if (expected.levels() != null) {
            assertThat(applied.size()).isEqualTo(appliedBefore + 1);
            assertThat(applied.getLast()).isEqualTo(expected.levels());
        } else {
            assertThat(applied.size())
                    .as("levels changed by %s %s", method, target)
                    .isEqualTo(appliedBefore);
        }
        assertThat(resets.get()).isEqualTo(resetsBefore + (expected.reset() ? 1 : 0));
    }

    /** What the routes answer: a status, the levels applied (null: none), whether the levels were reset. */
    record Expected(int status, Map<String, String> levels, boolean reset) {
        static Expected of(int status) {
            return new Expected(status, null, false);
        }
    }

    /** The admin routes (ztunnel's /logging, /config_dump, /quitquitquit), written here from their contract. */
    static Expected model(String method, String rawTarget) {
        // Netty's request-line reader takes runs of spaces as one separator: trailing spaces of the target
        // fall into the one before the version
        String target = rawTarget.replaceAll(" +$", "");
        if (target.chars().anyMatch(c -> c <= ' ' || c == 0x7f) || target.isEmpty()) {
            return Expected.of(400); // not a request line: three parts separated by single spaces
        }
        int q = target.indexOf('?');
        String path = decode(q < 0 ? target : target.substring(0, q), false);
        if (path == null) {
            return Expected.of(400);
        }
        Map<String, List<String>> query = new LinkedHashMap<>();
        if (q >= 0) {
            for (String pair : target.substring(q + 1).split("[&;]")) {
                if (pair.isEmpty()) {
                    continue;
                }
                int eq = pair.indexOf('=');
                String name = decode(eq < 0 ? pair : pair.substring(0, eq), true);
                String value = decode(eq < 0 ? "" : pair.substring(eq + 1), true);
                if (name == null || value == null) {
                    return Expected.of(400);
                }
                if (!name.isEmpty()) {
                    query.computeIfAbsent(name, k -> new ArrayList<>()).add(value);
                }
            }
        }
        switch (path) {
            case "/config_dump" -> {
                return Expected.of(200);
            }
            case "/quitquitquit" -> {
                return Expected.of(method.equals("POST") ? 200 : 405);
            }
            case "/logging" -> {}
            default -> {
                return Expected.of(404);
            }
        }
        if (!query.containsKey("level") && !query.containsKey("reset")) {
            return Expected.of(200);
        }
        if (!method.equals("POST")) {
            return Expected.of(405);
        }
        if (query.containsKey("reset")) {
            return new Expected(200, null, true);
        }
        if (query.get("level").size() != 1) {
            return Expected.of(400);
        }
        Map<String, String> levels = filter(query.get("level").getFirst());
        return levels == null ? Expected.of(400) : new Expected(200, levels, false);
    }

    /** ztunnel's RUST_LOG-shaped filter with Ambit's bounds; null when it is refused. */
    static Map<String, String> filter(String f) {
        if (f.isBlank()) {
            return null;
        }
        String[] parts = f.split(",", -1);
        if (parts.length > 64) {
            return null;
        }
        var out = new LinkedHashMap<String, String>();
        for (String raw : parts) {
            String p = raw.trim();
            int eq = p.indexOf('=');
            String logger = eq < 0 ? "" : p.substring(0, eq).trim();
            String level = (eq < 0 ? p : p.substring(eq + 1)).trim().toLowerCase(Locale.ROOT);
            if (eq >= 0 && logger.isEmpty()) {
                return null;
            }
            if (!logger.isEmpty() && !logger.matches("[A-Za-z0-9._$-]{1,256}")) {
                return null;
            }
            if (!LEVELS.contains(level) || out.put(logger, level) != null) {
                return null;
            }
        }
        return out;
    }

    /** RFC 3986 percent-decoding as UTF-8 ({@code +} is a space in a query); null for a bad escape. */
    static String decode(String s, boolean query) {
        var out = new ByteArrayOutputStream();
        byte[] in = s.getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < in.length; i++) {
            if (in[i] == '%') {
                if (i + 2 >= in.length || !hex(in[i + 1]) || !hex(in[i + 2])) {
                    return null;
                }
                out.write(HexFormat.fromHexDigits(new String(in, i + 1, 2, StandardCharsets.US_ASCII)));
                i += 2;
            } else {
                out.write(query && in[i] == '+' ? ' ' : in[i]);
            }
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    private static boolean hex(byte b) {
        return (b >= '0' && b <= '9') || (b >= 'a' && b <= 'f') || (b >= 'A' && b <= 'F');
    }

    /** Regression: a bad escape in the path closed the connection without an answer; in the query it was a 500. */
    @Example
    void aBadEscapeIsA400NamingIt() throws Exception {
        for (String target : List.of("/log%zzing", "/logging?level=%zz", "/logging?level=debug%")) {
            String response = exchange("POST " + target + " HTTP/1.1\r\nhost: admin\r\nconnection: close\r\n\r\n");
            assertThat(response).as(target).startsWith("HTTP/1.1 400");
            assertThat(body(response)).contains("bad request target");
        }
    }

    /** Regression: any text was taken as a logger name (the backend keeps every logger it is asked about). */
    @Example
    void aLoggerNameMustLookLikeOne() throws Exception {
        String response =
                exchange("POST /logging?level=a%20b%0Ac=debug HTTP/1.1\r\nhost: admin\r\nconnection: close\r\n\r\n");
        assertThat(response).startsWith("HTTP/1.1 400");
        assertThat(body(response)).contains("not a logger name");
    }

    /** A request Netty cannot read is a 400 saying so, not the 404 of its placeholder path. */
    @Example
    void anUnreadableRequestIsA400() throws Exception {
        String response = exchange("GET /logging HTTP/1.1\r\nbad header line\r\n\r\n");
        assertThat(response).startsWith("HTTP/1.").contains(" 400 ");
        assertThat(body(response)).contains("malformed request");
    }

    // ---- inputs ----

    @Provide
    Arbitrary<String> methods() {
        return Arbitraries.of("GET", "POST", "POST", "POST", "PUT", "BREW");
    }

    @Provide
    Arbitrary<String> targets() {
        Arbitrary<String> path = Arbitraries.of(
                "/logging",
                "/logging",
                "/logging",
                "/config_dump",
                "/quitquitquit",
                "/nope",
                "/logging/",
                "/log%67ing",
                "/log%zzing",
                "/log%6",
                "/%",
                "//logging");
        Arbitrary<String> level = Arbitraries.of(
                "debug",
                "INFO",
                "off",
                "loud",
                "",
                " ",
                "access=off",
                "access%3Doff",
                "io.ambit.ztunnel.inbound=debug",
                "io.ambit%2Bx=debug",
                "a+b=debug",
                "a%20b=debug",
                "a%0Ab=info",
                "%00=info",
                "=info",
                "x=",
                "warn,access=off",
                "info,debug",
                "x=info,x=debug",
                "%zz",
                "debug%",
                "d%65bug",
                "\u00e9=info",
                "%C3%A9=info",
                "x".repeat(300) + "=info",
                manyPairs(70), // distinct loggers, over MAX_PAIRS
                manyPairs(64),
                "a$b-c_d.e=trace");
        Arbitrary<String> pair = Arbitraries.oneOf(
                level.map(l -> "level=" + l),
                Arbitraries.of("reset", "reset=1", "level", "x=1", "", "=", "&", ";", "level=debug;level=info"));
        Arbitrary<String> query = pair.list().ofMaxSize(3).map(p -> String.join("&", p));
        return Combinators.combine(path, query, Arbitraries.integers().between(0, 9))
                .as((p, q, shape) -> switch (shape) {
                    case 0 -> p;
                    case 1 -> p + "?";
                    case 2 -> p + " x"; // a space: no longer a request line
                    default -> p + "?" + q;
                });
    }

    private static String manyPairs(int n) {
        var parts = new ArrayList<String>();
        for (int i = 0; i < n; i++) {
            parts.add("a" + i + "=info");
        }
        return String.join(",", parts);
    }

    // ---- client ----

    /** Writes one raw request and reads the whole answer (the server closes after it); bounded by SO_TIMEOUT. */
    private static String exchange(String request) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(endpoint.address(), 5_000);
            s.setSoTimeout(10_000);
            s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            s.getOutputStream().flush();
            return new String(readAll(s.getInputStream()), StandardCharsets.UTF_8);
        }
    }

    private static byte[] readAll(InputStream in) throws IOException {
        var out = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        int n;
        while (out.size() < 1 << 20 && (n = in.read(buf)) >= 0) {
            out.write(buf, 0, n);
        }
        return out.toByteArray();
    }

    private static String body(String response) {
        int i = response.indexOf("\r\n\r\n");
        return i < 0 ? "" : response.substring(i + 4);
    }
}

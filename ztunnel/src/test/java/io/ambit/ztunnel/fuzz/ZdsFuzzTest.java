package io.ambit.ztunnel.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.InvalidProtocolBufferException;
import io.ambit.ztunnel.inpod.InPodProxies;
import io.ambit.ztunnel.inpod.TestMesh;
import io.ambit.ztunnel.inpod.sys.SeqpacketSocket;
import io.ambit.ztunnel.inpod.sys.SocketOptions;
import io.ambit.ztunnel.inpod.zds.AddWorkload;
import io.ambit.ztunnel.inpod.zds.DelWorkload;
import io.ambit.ztunnel.inpod.zds.KeepWorkload;
import io.ambit.ztunnel.inpod.zds.SnapshotSent;
import io.ambit.ztunnel.inpod.zds.Version;
import io.ambit.ztunnel.inpod.zds.WorkloadInfo;
import io.ambit.ztunnel.inpod.zds.WorkloadRequest;
import io.ambit.ztunnel.inpod.zds.WorkloadResponse;
import io.ambit.ztunnel.inpod.zds.ZdsHello;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.channel.unix.FileDescriptor;
import io.netty.channel.unix.Socket;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
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
 * ZDS from a hostile or broken CNI agent (issue 4: "ZDS garbage and a netns fd that is not a netns ...
 * a clear error, nothing crashes"): over a real {@code SOCK_SEQPACKET} socket, the agent's end played
 * here, ztunnel gets valid {@code WorkloadRequest}s, the same with random byte edits (flips, inserts,
 * cuts, length prefixes turned huge, wire types changed), plain random bytes and oversized packets, each
 * with 0 to 10 descriptors beside it of every kind a confused agent could pass: a regular file, a
 * unix socket, {@code /dev/null}, a pipe, a socket, a UTS namespace, a user namespace, and a real network
 * namespace.
 *
 * <p>What must hold for every message: exactly one ack comes back on the same connection (never a
 * close, never silence), its text is what the ZDS contract says — computed here from the bytes and the
 * descriptors, not from ztunnel's code — and after the test closes its own copies (and removes a pod
 * ztunnel accepted) no descriptor of any kind it sent is open in this process any more.
 *
 * <p>No root needed: the mesh has no workloads, so an accepted {@code add} stays pending and never
 * enters the namespace.
 */
class ZdsFuzzTest {
    private static final String MESH = """
            mesh: {rootNamespace: istio-system, trustDomain: cluster.local}
            workloads: []
            """;
    private static final int MAX_MESSAGE_BYTES = 64 * 1024;
    private static final int MAX_FDS = 8;
    private static final int MAX_ACK_ERROR_BYTES = 1024;
    private static final HexFormat HEX = HexFormat.of();

    /** What may travel beside a message. */
    enum FdKind {
        FILE,
        UNIX_SOCKET,
        DEV_NULL,
        PIPE,
        SOCKET,
        UTS_NAMESPACE,
        USER_NAMESPACE,
        NETWORK_NAMESPACE
    }

    @SuppressWarnings("restricted") // libc open/close for the test's own descriptors (surefire enables native access)
    private static final MethodHandle OPEN = Linker.nativeLinker()
            .downcallHandle(
                    Linker.nativeLinker().defaultLookup().find("open").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));

    @SuppressWarnings("restricted")
    private static final MethodHandle CLOSE = Linker.nativeLinker()
            .downcallHandle(
                    Linker.nativeLinker().defaultLookup().find("close").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));

    private static Path dir;
    private static Path file;
    private static TestMesh mesh;
    private static InPodProxies proxies;
    private static SeqpacketSocket listener;
    private static SeqpacketSocket agent;

    @BeforeContainer
    static void start() throws Exception {
        if (!SocketOptions.unavailability().isEmpty()) {
            // ZDS is Linux's; CI runs on Linux, so this is a failure there, never a silent skip
            throw new IllegalStateException("ZDS needs Linux: " + SocketOptions.unavailability());
        }
        dir = Files.createTempDirectory("zds-fuzz");
        file = dir.resolve("not-a-netns");
        Files.writeString(file, "plain file\n");
        mesh = new TestMesh(dir, MESH);
        var socket = dir.resolve("ztunnel.sock");
        listener = SeqpacketSocket.listen(socket, 4);
        listener.receiveTimeout(Duration.ofSeconds(60));
        proxies = InPodProxies.start(mesh.inPodConfig(socket, new SimpleMeterRegistry(), null));
        accept();
    }

    private static void accept() throws IOException {
        if (agent != null) {
            agent.close();
        }
        agent = listener.accept();
        agent.receiveTimeout(Duration.ofSeconds(60)); // every wait for an ack is bounded
        var hello = ZdsHello.parseFrom(agent.receive(4096, 0).data());
        assertThat(hello.getVersion()).isEqualTo(Version.V1);
    }

    @AfterContainer
    static void stop() throws IOException {
        if (proxies != null) {
            proxies.close();
        }
        if (agent != null) {
            agent.close();
        }
        if (listener != null) {
            listener.shutdown();
            listener.close();
        }
        if (mesh != null) {
            mesh.close();
        }
        if (dir != null) {
            try (Stream<Path> all = Files.walk(dir)) {
                for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    @Property(seed = FuzzInputs.SEED)
    void everyMessageGetsTheAckTheContractSaysAndNoDescriptorStaysOpen(
            @ForAll("messages") byte[] message, @ForAll("descriptors") List<FdKind> kinds) throws Exception {
        long before = ourDescriptors();
        List<AutoCloseable> sent = new ArrayList<>();
        String ack;
        try {
            int[] fds = new int[kinds.size()];
            for (int i = 0; i < fds.length; i++) {
                fds[i] = open(kinds.get(i), sent);
            }
            agent.send(message, fds);
            ack = receiveAck();
        } finally {
            closeAll(sent);
        }
        String expected = model(message, kinds);
        String outcome = outcome(expected, message);
        Statistics.label("outcome").collect(outcome);
        Statistics.label("outcome").coverage(c -> {
            for (String o : List.of(
                    "add accepted",
                    "other accepted",
                    "not a request",
                    "oversized",
                    "too many descriptors",
                    "add without one descriptor",
                    "add with no network namespace",
                    "descriptor where none belongs",
                    "no known payload")) {
                c.check(o).percentage(p -> p >= 1.0);
            }
        });

        assertThat(ack.getBytes(StandardCharsets.UTF_8).length)
                .as("ack within %d bytes", MAX_ACK_ERROR_BYTES)
                .isLessThanOrEqualTo(MAX_ACK_ERROR_BYTES);
        if (expected.isEmpty()) {
            assertThat(ack).as("message %s", hex(message)).isEmpty();
            var request = WorkloadRequest.parseFrom(message);
            if (request.hasAdd()) {
                // accepted and pending (the mesh has no workloads): removing it must release its namespace
                agent.send(WorkloadRequest.newBuilder()
                        .setDel(DelWorkload.newBuilder().setUid(request.getAdd().getUid()))
                        .build()
                        .toByteArray());
                assertThat(receiveAck()).isEmpty();
                assertThat(proxies.pending()).isEmpty();
            }
        } else {
            assertThat(ack).as("message %s with %s", hex(message), kinds).startsWith(cut(expected.split("\\*")[0]));
            for (String part : expected.split("\\*")) {
                assertThat(ack).contains(cut(part));
            }
        }
        assertThat(ourDescriptors())
                .as("descriptors of the kinds sent, open in this process, after %s", kinds)
                .isEqualTo(before);
    }

    /** The ack's text, or a failure when ztunnel closed the connection or answered anything else. */
    private static String receiveAck() throws IOException {
        var m = agent.receive(64 * 1024, 0);
        assertThat(m.eof())
                .as("ztunnel closed the ZDS connection instead of acking")
                .isFalse();
        assertThat(m.truncated()).as("ack longer than 64 KiB").isFalse();
        var response = WorkloadResponse.parseFrom(m.data());
        assertThat(response.hasAck()).as("answer %s", response).isTrue();
        return response.getAck().getError();
    }

    /**
     * The ack the ZDS contract (ztunnel-reference.md §1.3, ZdsClient's documented checks) gives, as a
     * pattern: "" for success, else pieces separated by '*' that the text holds in order (the first is
     * its start).
     */
    static String model(byte[] message, List<FdKind> kinds) {
        if (message.length > MAX_MESSAGE_BYTES) {
            return "message longer than " + MAX_MESSAGE_BYTES + " bytes";
        }
        if (kinds.size() > MAX_FDS) {
            return "more than " + MAX_FDS + " descriptors";
        }
        WorkloadRequest request;
        try {
            request = WorkloadRequest.parseFrom(message);
        } catch (InvalidProtocolBufferException e) {
            return "not a ZDS WorkloadRequest (" + message.length + " bytes)";
        }
        return switch (request.getPayloadCase()) {
            case ADD -> {
                String uid = request.getAdd().getUid();
                if (kinds.size() != 1) {
                    yield "add " + uid + " came with " + kinds.size() + " descriptors*expected exactly one";
                }
                if (kinds.getFirst() == FdKind.NETWORK_NAMESPACE) {
                    yield uid.isBlank() ? "add without a uid" : "";
                }
                yield kinds.getFirst() == FdKind.UTS_NAMESPACE || kinds.getFirst() == FdKind.USER_NAMESPACE
                        ? "add " + uid + ": fd *is a namespace of type*not a network namespace"
                        : "add " + uid + ": fd *not a network namespace (expected: an open /proc/PID/ns/net";
            }
            case DEL, KEEP, SNAPSHOT_SENT ->
                kinds.isEmpty()
                        ? ""
                        : request.getPayloadCase() + " came with " + kinds.size() + " descriptors (expected none)";
            case PAYLOAD_NOT_SET ->
                kinds.isEmpty()
                        ? "WorkloadRequest without a known payload"
                        : "PAYLOAD_NOT_SET came with " + kinds.size() + " descriptors (expected none)";
        };
    }

    /** The kind of outcome {@code expected} (a {@link #model} answer) is, for the statistics. */
    private static String outcome(String expected, byte[] message) throws InvalidProtocolBufferException {
        if (expected.isEmpty()) {
            return WorkloadRequest.parseFrom(message).hasAdd() ? "add accepted" : "other accepted";
        }
        if (expected.startsWith("not a ZDS")) {
            return "not a request";
        }
        if (expected.startsWith("message longer")) {
            return "oversized";
        }
        if (expected.startsWith("more than")) {
            return "too many descriptors";
        }
        if (expected.startsWith("add without a uid")) {
            return "add without a uid";
        }
        if (expected.startsWith("add ")) {
            return expected.contains("came with") ? "add without one descriptor" : "add with no network namespace";
        }
        if (expected.startsWith("WorkloadRequest without")) {
            return "no known payload";
        }
        return "descriptor where none belongs";
    }

    /** A piece of an expected ack, as it can appear in an ack cut to its byte bound. */
    private static String cut(String part) {
        return part.length() > 200 ? part.substring(0, 200) : part;
    }

    /** Regression: a 60,000-character uid was echoed whole in its ack (60 KB, more than an agent reads). */
    @Example
    void anAckQuotingAHugeUidIsCutToItsBound() throws Exception {
        String uid = "Kubernetes//Pod/default/" + "x".repeat(60_000);
        var add = WorkloadRequest.newBuilder()
                .setAdd(AddWorkload.newBuilder().setUid(uid))
                .build();
        agent.send(add.toByteArray());
        String ack = receiveAck();
        assertThat(ack.getBytes(StandardCharsets.UTF_8).length).isLessThanOrEqualTo(MAX_ACK_ERROR_BYTES);
        assertThat(ack).startsWith("add Kubernetes//Pod/default/xxx").endsWith(" characters, cut)");
    }

    /**
     * Regression: an agent adding uids the mesh does not know kept one namespace descriptor open per uid
     * without bound. Past 1024 pods (InPodProxies.MAX_PODS) an add is refused naming the bound, its
     * descriptor closed; removing pods makes room again.
     */
    @Example
    void addsBeyondThePodBoundAreRefusedAndTheirDescriptorsClosed() throws Exception {
        int bound = 1024;
        long before = ourDescriptors();
        List<String> uids = new ArrayList<>();
        try {
            for (int i = 0; i <= bound; i++) {
                String uid = "Kubernetes//Pod/default/unknown-" + i;
                List<AutoCloseable> sent = new ArrayList<>();
                String ack;
                try {
                    agent.send(
                            WorkloadRequest.newBuilder()
                                    .setAdd(AddWorkload.newBuilder().setUid(uid))
                                    .build()
                                    .toByteArray(),
                            open(FdKind.NETWORK_NAMESPACE, sent));
                    ack = receiveAck();
                } finally {
                    closeAll(sent);
                }
                if (i < bound) {
                    assertThat(ack).as("add %d", i).isEmpty();
                    uids.add(uid);
                } else {
                    assertThat(ack)
                            .isEqualTo("add " + uid + ": this node already proxies 1024 pods (expected: at most 1024;"
                                    + " del pods that are gone)");
                }
            }
            assertThat(proxies.pending()).hasSize(bound);
            assertThat(ourDescriptors())
                    .as("one namespace descriptor per pending pod")
                    .isEqualTo(before + bound);
        } finally {
            for (String uid : uids) {
                agent.send(WorkloadRequest.newBuilder()
                        .setDel(DelWorkload.newBuilder().setUid(uid))
                        .build()
                        .toByteArray());
                assertThat(receiveAck()).isEmpty();
            }
        }
        assertThat(proxies.pending()).isEmpty();
        assertThat(ourDescriptors()).isEqualTo(before);
    }

    /**
     * An empty packet reads exactly like the agent closing (a zero-length SEQPACKET receive): ztunnel
     * takes it as a close and connects again with a new hello, and the new connection works.
     */
    @Example
    void anEmptyPacketIsTakenAsACloseAndZtunnelReconnects() throws Exception {
        agent.send(new byte[0]);
        accept(); // bounded by SO_RCVTIMEO
        agent.send(WorkloadRequest.newBuilder()
                .setSnapshotSent(SnapshotSent.getDefaultInstance())
                .build()
                .toByteArray());
        assertThat(receiveAck()).isEmpty();
    }

    // ---- inputs ----

    @Provide
    Arbitrary<List<FdKind>> descriptors() {
        return Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(3, Arbitraries.just(List.<FdKind>of())),
                net.jqwik.api.Tuple.of(4, Arbitraries.of(FdKind.class).map(List::of)),
                net.jqwik.api.Tuple.of(4, Arbitraries.just(List.of(FdKind.NETWORK_NAMESPACE))),
                net.jqwik.api.Tuple.of(
                        2, Arbitraries.of(FdKind.class).list().ofMinSize(2).ofMaxSize(10)));
    }

    @Provide
    Arbitrary<byte[]> messages() {
        Arbitrary<byte[]> valid = Combinators.combine(
                        Arbitraries.frequency(
                                net.jqwik.api.Tuple.of(5, 0),
                                net.jqwik.api.Tuple.of(1, 1),
                                net.jqwik.api.Tuple.of(1, 2),
                                net.jqwik.api.Tuple.of(1, 3),
                                net.jqwik.api.Tuple.of(1, 4)),
                        Arbitraries.of(
                                "Kubernetes//Pod/default/a",
                                "",
                                " ",
                                "u",
                                "\u00e9\u4e2d\ud83d\ude00",
                                "a\u0000b\nc",
                                "x".repeat(300)),
                        Arbitraries.of("a", "", "n\u0000"),
                        Arbitraries.integers().between(0, 2))
                .as((kind, uid, name, info) ->
                        nonEmpty(request(kind, uid, name, info).toByteArray()));
        Arbitrary<byte[]> edited = Combinators.combine(
                        valid,
                        Arbitraries.integers().between(0, 3).list().ofMinSize(1).ofMaxSize(3),
                        Arbitraries.integers().between(0, 400),
                        Arbitraries.bytes())
                .as(ZdsFuzzTest::edit);
        Arbitrary<byte[]> huge = Arbitraries.of(
                        MAX_MESSAGE_BYTES - 1, MAX_MESSAGE_BYTES, MAX_MESSAGE_BYTES + 1, 100_000)
                .map(n -> {
                    var b = new byte[n];
                    b[0] = 0x0a; // add, length-delimited: a length prefix that lies
                    return b;
                });
        Arbitrary<byte[]> lyingLength = Arbitraries.of(
                new byte[] {0x0a, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x0f},
                new byte[] {
                    0x0a,
                    (byte) 0xff,
                    (byte) 0xff,
                    (byte) 0xff,
                    (byte) 0xff,
                    (byte) 0xff,
                    (byte) 0xff,
                    (byte) 0xff,
                    (byte) 0xff,
                    (byte) 0xff,
                    0x01
                },
                new byte[] {0x0a, 0x05, 0x0a, 0x7f, 0x41},
                new byte[] {0x1a, 0x02, 0x08, (byte) 0x80},
                new byte[] {0x0b, 0x0c}, // a group start without its end
                new byte[] {0x0b, 0x0b, 0x0b, 0x0b}, // groups nested without end
                new byte[] {0x0f}, // wire type 7
                new byte[] {0x00}, // field number 0
                new byte[] {0x08, 0x01}, // add as a varint: an unknown field of the wrong type
                new byte[] {0x22, 0x00}, // field 4 (retired): no known payload
                new byte[] {0x0a, 0x00, 0x12, 0x02, 0x12, 0x00}, // add then del: the last one wins
                new byte[] {0x0a, 0x03, 0x0a, 0x01, (byte) 0xc3}); // uid with invalid UTF-8
        Arbitrary<byte[]> deep = Arbitraries.integers().between(90, 120).map(n -> {
            // nested unknown groups deeper than protobuf's recursion limit (100)
            var out = new ByteArrayOutputStream();
            for (int i = 0; i < n; i++) {
                out.write(0x53); // field 10, start group
            }
            for (int i = 0; i < n; i++) {
                out.write(0x54); // field 10, end group
            }
            return out.toByteArray();
        });
        Arbitrary<byte[]> random =
                Arbitraries.bytes().array(byte[].class).ofMinSize(1).ofMaxSize(64);
        return Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(8, valid),
                net.jqwik.api.Tuple.of(4, edited),
                net.jqwik.api.Tuple.of(1, huge),
                net.jqwik.api.Tuple.of(2, lyingLength),
                net.jqwik.api.Tuple.of(1, deep),
                net.jqwik.api.Tuple.of(3, random));
    }

    /** A well-formed request: 0 add, 1 keep, 2 del, 3 snapshot_sent, 4 none. */
    private static WorkloadRequest request(int kind, String uid, String name, int info) {
        var b = WorkloadRequest.newBuilder();
        switch (kind) {
            case 0 -> {
                var add = AddWorkload.newBuilder().setUid(uid);
                if (info > 0) {
                    add.setWorkloadInfo(WorkloadInfo.newBuilder()
                            .setName(name)
                            .setNamespace(info == 1 ? "default" : name)
                            .setServiceAccount(name));
                }
                b.setAdd(add);
            }
            case 1 -> b.setKeep(KeepWorkload.newBuilder().setUid(uid));
            case 2 -> b.setDel(DelWorkload.newBuilder().setUid(uid));
            case 3 -> b.setSnapshotSent(SnapshotSent.getDefaultInstance());
            default -> {}
        }
        return b.build();
    }

    /**
     * A request without a payload encodes as zero bytes, which on SEQPACKET reads as the agent closing
     * (see {@link #anEmptyPacketIsTakenAsACloseAndZtunnelReconnects}); such a request is sent with a
     * retired field (4) instead, which ztunnel must still answer as "no known payload".
     */
    private static byte[] nonEmpty(byte[] b) {
        return b.length == 0 ? new byte[] {0x22, 0x00} : b;
    }

    /** Byte edits: 0 flip a byte, 1 insert one, 2 delete one, 3 cut the tail; never an empty result. */
    private static byte[] edit(byte[] v, List<Integer> kinds, int at, byte value) {
        byte[] b = v;
        for (int kind : kinds) {
            int i = b.length == 0 ? 0 : Math.floorMod(at, b.length);
            b = switch (kind) {
                case 0 -> {
                    if (b.length == 0) {
                        yield new byte[] {value};
                    }
                    var c = b.clone();
                    c[i] ^= value == 0 ? 1 : value;
                    yield c;
                }
                case 1 -> {
                    var c = new byte[b.length + 1];
                    System.arraycopy(b, 0, c, 0, i);
                    c[i] = value;
                    System.arraycopy(b, i, c, i + 1, b.length - i);
                    yield c;
                }
                case 2 -> {
                    if (b.length == 0) {
                        yield b;
                    }
                    var c = new byte[b.length - 1];
                    System.arraycopy(b, 0, c, 0, i);
                    System.arraycopy(b, i + 1, c, i, b.length - i - 1);
                    yield c;
                }
                default -> Arrays.copyOf(b, i);
            };
        }
        return b.length == 0 ? new byte[] {value == 0 ? (byte) 0x1a : value} : b;
    }

    // ---- descriptors ----

    private static int open(FdKind kind, List<AutoCloseable> sent) throws IOException {
        return switch (kind) {
            case FILE -> readOnly(file.toString(), sent);
            case UNIX_SOCKET -> keep(Socket.newSocketDomain(), sent);
            case DEV_NULL -> readOnly("/dev/null", sent);
            case PIPE -> {
                var pipe = FileDescriptor.pipe();
                keep(pipe[1], sent);
                yield keep(pipe[0], sent);
            }
            case SOCKET -> keep(Socket.newSocketDgram(), sent);
            case UTS_NAMESPACE -> readOnly("/proc/self/ns/uts", sent);
            case USER_NAMESPACE -> readOnly("/proc/self/ns/user", sent);
            case NETWORK_NAMESPACE -> readOnly("/proc/self/ns/net", sent);
        };
    }

    /** libc's open(path, O_RDONLY | O_CLOEXEC): namespaces open read-only only (Netty's open asks for write). */
    private static int readOnly(String path, List<AutoCloseable> sent) throws IOException {
        int fd;
        try (var arena = Arena.ofConfined()) {
            fd = (int) OPEN.invokeExact(arena.allocateFrom(path), 0x80000 /* O_CLOEXEC; O_RDONLY is 0 */);
        } catch (Throwable t) {
            throw new IOException("open " + path, t);
        }
        if (fd < 0) {
            throw new IOException("open " + path + " failed");
        }
        sent.add(() -> {
            int rc;
            try {
                rc = (int) CLOSE.invokeExact(fd);
            } catch (Throwable t) {
                throw new IOException("close " + fd, t);
            }
            assertThat(rc).as("close of the test's own fd %d", fd).isZero();
        });
        return fd;
    }

    private static int keep(FileDescriptor fd, List<AutoCloseable> sent) {
        sent.add(fd::close);
        return fd.intValue();
    }

    private static void closeAll(List<AutoCloseable> sent) throws Exception {
        for (var c : sent) {
            c.close();
        }
    }

    /**
     * How many descriptors of the kinds the test sends are open in this process (ztunnel runs in it):
     * the test's file and {@code /dev/null}, pipes, sockets and namespaces. Steady between
     * tries once everything sent is closed again.
     */
    private static long ourDescriptors() throws IOException {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.map(ZdsFuzzTest::link).filter(ZdsFuzzTest::ours).count();
        }
    }

    private static String link(Path fd) {
        try {
            return Files.readSymbolicLink(fd).toString();
        } catch (IOException e) {
            return ""; // closed meanwhile (e.g. the listing's own descriptor)
        }
    }

    private static boolean ours(String link) {
        return link.equals(file.toString())
                || link.equals("/dev/null")
                || link.startsWith("pipe:")
                || link.startsWith("net:")
                || link.startsWith("uts:")
                || link.startsWith("user:")
                || link.startsWith("socket:");
    }

    private static String hex(byte[] b) {
        return b.length > 64 ? HEX.formatHex(b, 0, 64) + "...(" + b.length + " bytes)" : HEX.formatHex(b);
    }
}

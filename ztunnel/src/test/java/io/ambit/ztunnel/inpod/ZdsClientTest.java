package io.ambit.ztunnel.inpod;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.ambit.ztunnel.inpod.sys.NetnsFd;
import io.ambit.ztunnel.inpod.sys.SocketOptions;
import io.ambit.ztunnel.inpod.zds.AddWorkload;
import io.ambit.ztunnel.inpod.zds.KeepWorkload;
import io.ambit.ztunnel.inpod.zds.Version;
import io.ambit.ztunnel.inpod.zds.WorkloadRequest;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.channel.unix.FileDescriptor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * ZDS bad input and lifecycle against a fake CNI agent on a real {@code SOCK_SEQPACKET} socket (no root
 * needed: no pod is ever proxied here). Each bad message gets an error ack naming what was wrong, every
 * descriptor that came with it is closed, and the connection keeps working.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ZdsClientTest {
    static final String MESH = """
            mesh: {rootNamespace: istio-system, trustDomain: cluster.local}
            workloads: []
            """;

    @TempDir
    Path dir;

    TestMesh mesh;
    FakeCniAgent agent;
    InPodProxies proxies;
    Path file;

    @BeforeEach
    void start() throws Exception {
        assumeTrue(SocketOptions.unavailability().isEmpty(), "ZDS needs Linux: " + SocketOptions.unavailability());
        mesh = new TestMesh(dir, MESH);
        var socket = dir.resolve("ztunnel.sock");
        agent = new FakeCniAgent(socket);
        proxies = InPodProxies.start(mesh.inPodConfig(socket, new SimpleMeterRegistry(), null));
        assertThat(agent.accept().getVersion()).isEqualTo(Version.V1);
        file = dir.resolve("not-a-netns");
        Files.writeString(file, "plain file\n");
    }

    @AfterEach
    void stop() {
        if (proxies != null) {
            proxies.close();
        }
        if (agent != null) {
            agent.close();
        }
        if (mesh != null) {
            mesh.close();
        }
    }

    @Test
    void garbageIsAnErrorAckAndTheConnectionGoesOn() throws Exception {
        assertThat(agent.sendRaw(new byte[] {(byte) 0xff, (byte) 0xff, 0x01, 0x02}))
                .startsWith("not a ZDS WorkloadRequest (4 bytes)");
        assertThat(agent.keep("Kubernetes//Pod/default/x")).isEmpty();
    }

    @Test
    void aRequestWithoutAKnownPayloadIsAnErrorAck() throws Exception {
        // field 4 was NoSnapshotPresent in early ZDS; today it is no payload we know
        assertThat(agent.sendRaw(new byte[] {0x22, 0x00})).startsWith("WorkloadRequest without a known payload");
    }

    @Test
    void anOversizedMessageIsAnErrorAck() throws Exception {
        assertThat(agent.sendRaw(new byte[70_000])).startsWith("message longer than 65536 bytes");
        assertThat(agent.snapshotSent()).isEmpty();
    }

    @Test
    void anAddWithoutExactlyOneDescriptorIsRefusedAndTheDescriptorsAreClosed() throws Exception {
        var add = WorkloadRequest.newBuilder()
                .setAdd(AddWorkload.newBuilder().setUid("Kubernetes//Pod/default/a"))
                .build();
        assertThat(agent.send(add))
                .isEqualTo("add Kubernetes//Pod/default/a came with 0 descriptors"
                        + " (expected exactly one: the pod's network namespace)");
        var a = FileDescriptor.from(file.toFile());
        var b = FileDescriptor.from(file.toFile());
        try {
            assertThat(openDescriptors(file)).isEqualTo(2);
            assertThat(agent.send(add, a.intValue(), b.intValue())).contains("came with 2 descriptors");
            assertThat(openDescriptors(file))
                    .as("ztunnel closed the copies it received")
                    .isEqualTo(2);
        } finally {
            a.close();
            b.close();
        }
    }

    @Test
    void aDescriptorThatIsNoNetworkNamespaceIsRefusedNamingWhatItIs() throws Exception {
        var out = FileDescriptor.from(file.toFile());
        try {
            String ack = agent.add("Kubernetes//Pod/default/a", "a", "default", "sa", out.intValue());
            assertThat(ack)
                    .startsWith("add Kubernetes//Pod/default/a: fd ")
                    .contains(file.toString())
                    .contains("not a network namespace (expected: an open /proc/PID/ns/net or /run/netns/NAME");
            assertThat(openDescriptors(file)).as("ztunnel closed its copy").isEqualTo(1);
        } finally {
            out.close();
        }
        assertThat(proxies.running()).isZero();
        assertThat(agent.snapshotSent()).isEmpty();
        TestMesh.await("ready after an empty snapshot", Duration.ofSeconds(5), proxies::ready);
    }

    @Test
    void aDescriptorOnAMessageThatTakesNoneIsRefusedAndClosed() throws Exception {
        var out = FileDescriptor.from(file.toFile());
        try {
            var keep = WorkloadRequest.newBuilder()
                    .setKeep(KeepWorkload.newBuilder().setUid("u"))
                    .build();
            assertThat(agent.send(keep, out.intValue())).isEqualTo("KEEP came with 1 descriptors (expected none)");
            assertThat(openDescriptors(file)).isEqualTo(1);
        } finally {
            out.close();
        }
    }

    @Test
    void deletingAnUnknownPodIsAcked() throws Exception {
        assertThat(agent.del("Kubernetes//Pod/default/never-added")).isEmpty();
    }

    @Test
    void readinessWaitsForTheFirstSnapshot() throws Exception {
        assertThat(proxies.ready()).isFalse();
        assertThat(proxies.notReadyBecause()).containsExactly("workload proxy manager (no ZDS snapshot yet)");
        assertThat(agent.snapshotSent()).isEmpty();
        TestMesh.await("ready", Duration.ofSeconds(5), proxies::ready);
    }

    @Test
    void aLostConnectionIsReestablishedWithANewHello() throws Exception {
        agent.disconnect();
        assertThat(agent.accept().getVersion()).isEqualTo(Version.V1); // bounded by the agent's SO_RCVTIMEO
        assertThat(agent.snapshotSent()).isEmpty();
    }

    @Test
    void aNetworkNamespaceIsRecognisedByItsInode() throws Exception {
        try (var own = NetnsFd.ofCurrentThread()) {
            String link =
                    Files.readSymbolicLink(Path.of("/proc/thread-self/ns/net")).toString();
            assertThat(link).isEqualTo("net:[" + own.inode() + "]");
        }
    }

    /** How many of this process's descriptors are open on {@code path}. */
    static long openDescriptors(Path path) throws IOException {
        try (var fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.filter(p -> {
                        try {
                            return Files.readSymbolicLink(p).equals(path);
                        } catch (IOException e) {
                            return false; // closed meanwhile (e.g. the listing's own descriptor)
                        }
                    })
                    .count();
        }
    }
}

package io.ambit.controlplane;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import io.ambit.policy.mesh.MeshConfig;
import io.ambit.xds.client.NodeInfo;
import io.ambit.xds.client.XdsMeshSource;
import io.ambit.xds.client.XdsSettings;
import io.ambit.xds.convert.AddressConverter;
import io.ambit.xds.convert.AuthorizationConverter;
import io.ambit.xds.proto.discovery.DeltaDiscoveryRequest;
import io.ambit.xds.proto.discovery.DeltaDiscoveryResponse;
import io.ambit.xds.proto.discovery.Resource;
import io.ambit.xds.proto.security.Authorization;
import io.ambit.xds.proto.workload.Address;
import io.ambit.xds.proto.workload.TunnelProtocol;
import io.ambit.xds.proto.workload.Workload;
import io.grpc.Status;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The xDS client against a server that misbehaves on purpose (a grpc-java server sending raw bytes):
 * garbage and truncated messages, wrong type URLs, nameless resources, oversized responses and failing
 * streams are NACKed or end the stream — never a crash — and the client keeps its last good state and
 * comes back.
 */
class MisbehavingServerTest {
    private static final String ADDRESS = AddressConverter.TYPE_URL;
    private static final String AUTHZ = AuthorizationConverter.TYPE_URL;

    @TempDir
    Path dir;

    private ScriptedAdsServer server;
    private XdsMeshSource source;

    @BeforeEach
    void start() throws Exception {
        server = new ScriptedAdsServer(dir.resolve("ca"), "127.91.0.2");
    }

    private void connect(XdsSettings settings) {
        var node = NodeInfo.ztunnel("127.91.0.11", "ztunnel-m", "istio-system", "node-a", "c1", Map.of());
        source = XdsMeshSource.start(settings, node, MeshConfig.DEFAULT, null);
    }

    private XdsSettings settings() {
        return XdsSettings.of(server.url(), server.rootCert(), null, "c1")
                .withBackoff(Duration.ofMillis(10), Duration.ofMillis(200));
    }

    @AfterEach
    void stop() throws Exception {
        if (source != null) {
            source.close();
        }
        server.close();
    }

    private static Resource workload(String uid, int lastOctet) {
        var w = Workload.newBuilder()
                .setUid(uid)
                .setName(uid.substring(uid.lastIndexOf('/') + 1))
                .setNamespace("ns")
                .addAddresses(ByteString.copyFrom(new byte[] {127, 91, 3, (byte) lastOctet}))
                .setTunnelProtocol(TunnelProtocol.HBONE);
        return Resource.newBuilder()
                .setName(uid)
                .setVersion("v" + lastOctet)
                .setResource(Any.pack(Address.newBuilder().setWorkload(w).build()))
                .build();
    }

    private static DeltaDiscoveryResponse response(String type, String nonce, Resource... resources) {
        return DeltaDiscoveryResponse.newBuilder()
                .setTypeUrl(type)
                .setNonce(nonce)
                .addAllResources(Arrays.asList(resources))
                .build();
    }

    /** Opens a stream and syncs one workload and no policies; returns the stream. */
    private ScriptedAdsServer.Stream synced() throws Exception {
        connect(settings());
        var s = server.stream();
        assertThat(s.request().getTypeUrl()).isEqualTo(ADDRESS);
        assertThat(s.request().getTypeUrl()).isEqualTo(AUTHZ);
        s.send(response(ADDRESS, "n1", workload("Kubernetes//Pod/ns/a", 1)));
        s.send(response(AUTHZ, "n2"));
        assertThat(s.request().getResponseNonce()).isEqualTo("n1");
        assertThat(s.request().getResponseNonce()).isEqualTo("n2");
        source.ready().get(20, TimeUnit.SECONDS);
        return s;
    }

    @Test
    void garbageBytesEndTheStreamAndTheClientComesBackWithItsState() throws Exception {
        var s = synced();
        var before = source.current();
        s.sendRaw(new byte[] {(byte) 0xff, (byte) 0xff, 0x7f, 0x00, 0x13});
        var again = server.stream(); // the client reconnects...
        DeltaDiscoveryRequest first = again.request();
        assertThat(first.getInitialResourceVersionsMap())
                .containsEntry("Kubernetes//Pod/ns/a", "v1"); // ...with its versions
        assertThat(source.current()).isSameAs(before);
    }

    @Test
    void aTruncatedMessageEndsTheStreamNotTheClient() throws Exception {
        var s = synced();
        byte[] whole =
                response(ADDRESS, "n3", workload("Kubernetes//Pod/ns/b", 2)).toByteArray();
        s.sendRaw(Arrays.copyOf(whole, whole.length - 7));
        var again = server.stream();
        again.request();
        assertThat(source.current().workloadByUid("Kubernetes//Pod/ns/b")).isEmpty();
        assertThat(source.current().workloadByUid("Kubernetes//Pod/ns/a")).isPresent();
    }

    @Test
    void aResourceOfTheWrongTypeOrWithoutNameIsNackedAndTheRestApplied() throws Exception {
        var s = synced();
        var wrongType = Resource.newBuilder()
                .setName("Kubernetes//Pod/ns/x")
                .setVersion("1")
                .setResource(Any.pack(Authorization.newBuilder().setName("x").build()))
                .build();
        var nameless = workload("", 9);
        s.send(response(ADDRESS, "n3", wrongType, nameless, workload("Kubernetes//Pod/ns/c", 3)));
        var nack = s.request();
        assertThat(nack.getResponseNonce()).isEqualTo("n3");
        assertThat(nack.getErrorDetail().getMessage())
                .isEqualTo("resources[1]: has no name (expected: the resource's name); Kubernetes//Pod/ns/x: payload is"
                        + " \"type.googleapis.com/istio.security.Authorization\" (expected: " + ADDRESS + ")");
        Await.until(
                "the good one",
                () -> source.current().workloadByUid("Kubernetes//Pod/ns/c").isPresent());
    }

    @Test
    void aResponseOfATypeNeverSubscribedIsAckedAndIgnored() throws Exception {
        var s = synced();
        var before = source.current();
        s.send(response("type.googleapis.com/envoy.config.cluster.v3.Cluster", "n3"));
        var ack = s.request();
        assertThat(ack.getResponseNonce()).isEqualTo("n3");
        assertThat(ack.hasErrorDetail()).isFalse();
        assertThat(source.current()).isSameAs(before);
    }

    @Test
    void anOversizedResponseIsRefusedByTheStreamNotBufferedWhole() throws Exception {
        connect(settings().withMaxMessageBytes(4096));
        var s = server.stream();
        s.request();
        s.request();
        var big = DeltaDiscoveryResponse.newBuilder().setTypeUrl(ADDRESS).setNonce("big");
        for (int i = 0; i < 200; i++) {
            big.addResources(workload("Kubernetes//Pod/ns/w" + i, i + 1));
        }
        s.send(big.build());
        server.stream().request(); // a new stream: the client refused the message and reconnected
        assertThat(source.current().workloads()).isEmpty();
        assertThat(source.ready()).isNotDone();
    }

    @Test
    void aStreamRefusedBeforeAnyResponseIsRetriedAndNeverMadeReady() throws Exception {
        connect(settings());
        for (int i = 0; i < 5; i++) {
            var s = server.stream();
            s.request();
            s.fail(Status.PERMISSION_DENIED.withDescription("unknown node"));
        }
        // the client counts a stream when its own side opens, which may come after the server has seen it
        Await.until("five streams counted", () -> source.status().streams() >= 5);
        assertThat(source.status().lastError()).isEqualTo("PERMISSION_DENIED: unknown node");
        assertThat(source.ready()).isNotDone();
        // counts, not timings: five streams were attempted and none was ACKed
        assertThat(source.status().acks()).isZero();
    }

    @Test
    void readinessWaitsForAFullyAckedResponseOfEachType() throws Exception {
        connect(settings());
        var s = server.stream();
        s.request();
        s.request();
        var bad = workload("Kubernetes//Pod/ns/bad", 4).toBuilder()
                .setResource(Any.newBuilder().setTypeUrl(ADDRESS).setValue(ByteString.copyFromUtf8("\u00ff\u00ff")))
                .build();
        s.send(response(ADDRESS, "n1", bad));
        s.send(response(AUTHZ, "n2"));
        assertThat(s.request().hasErrorDetail()).isTrue();
        assertThat(s.request().hasErrorDetail()).isFalse();
        assertThat(source.ready()).isNotDone();
        s.send(response(ADDRESS, "n3", workload("Kubernetes//Pod/ns/a", 1)));
        s.request();
        source.ready().get(20, TimeUnit.SECONDS);
    }
}

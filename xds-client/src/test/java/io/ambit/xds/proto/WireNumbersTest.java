package io.ambit.xds.proto;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;
import io.ambit.xds.proto.ca.IstioCertificateRequest;
import io.ambit.xds.proto.discovery.DeltaDiscoveryRequest;
import io.ambit.xds.proto.discovery.DeltaDiscoveryResponse;
import io.ambit.xds.proto.security.Authorization;
import io.ambit.xds.proto.security.Match;
import io.ambit.xds.proto.workload.Address;
import io.ambit.xds.proto.workload.GatewayAddress;
import io.ambit.xds.proto.workload.Workload;
import io.ambit.xds.proto.workload.WorkloadStatus;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import org.junit.jupiter.api.Test;

/**
 * The generated classes read bytes written by hand from the field numbers of ztunnel-reference.md §3.2,
 * §4.3–§4.5 — so a wrong number in a .proto file fails here rather than against istiod — and keep what
 * they do not know (newer fields, newer enum values) instead of refusing the message.
 */
class WireNumbersTest {
    /** Writes raw tags, so that the test does not depend on the generated code it checks. */
    private static final class Wire {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        final CodedOutputStream out = CodedOutputStream.newInstance(bytes);

        Wire string(int field, String v) throws IOException {
            out.writeString(field, v);
            return this;
        }

        Wire varint(int field, long v) throws IOException {
            out.writeUInt64(field, v);
            return this;
        }

        Wire bytes(int field, byte[] v) throws IOException {
            out.writeByteArray(field, v);
            return this;
        }

        Wire message(int field, Wire inner) throws IOException {
            out.writeByteArray(field, inner.build());
            return this;
        }

        byte[] build() throws IOException {
            out.flush();
            return bytes.toByteArray();
        }
    }

    private static Wire wire() {
        return new Wire();
    }

    @Test
    void workloadFieldsSitAtTheirWireNumbers() throws Exception {
        byte[] w = wire().string(20, "Kubernetes//Pod/default/a")
                .string(1, "a")
                .string(2, "default")
                .bytes(3, new byte[] {10, 0, 0, 1})
                .string(21, "a.example")
                .string(4, "net1")
                .varint(5, 1) // HBONE
                .string(6, "td")
                .string(7, "sa")
                .message(
                        8,
                        wire().message(2, wire().string(1, "").bytes(2, new byte[] {10, 0, 0, 9}))
                                .varint(3, 15008))
                .string(9, "node-1")
                .string(10, "canon")
                .string(11, "v1")
                .varint(12, 2) // POD
                .string(13, "a-deploy")
                .message(
                        22,
                        wire().string(1, "default/svc.example")
                                .message(
                                        2,
                                        wire().message(1, wire().varint(1, 80).varint(2, 8080))))
                .string(16, "default/allow-a")
                .varint(17, 1) // UNHEALTHY
                .string(18, "cluster-1")
                .message(24, wire().string(1, "r").string(2, "z").string(3, "s"))
                .message(27, wire().varint(1, 3))
                .build();
        var a = Address.parseFrom(wire().bytes(1, w).build());
        var parsed = a.getWorkload();
        assertThat(parsed.getUid()).isEqualTo("Kubernetes//Pod/default/a");
        assertThat(parsed.getAddresses(0).toByteArray()).containsExactly(10, 0, 0, 1);
        assertThat(parsed.getHostname()).isEqualTo("a.example");
        assertThat(parsed.getTunnelProtocolValue()).isEqualTo(1);
        assertThat(parsed.getWaypoint().getAddress().getAddress().toByteArray()).containsExactly(10, 0, 0, 9);
        assertThat(parsed.getWaypoint().getHboneMtlsPort()).isEqualTo(15008);
        assertThat(parsed.getNode()).isEqualTo("node-1");
        assertThat(parsed.getWorkloadTypeValue()).isEqualTo(2);
        assertThat(parsed.getServicesMap()
                        .get("default/svc.example")
                        .getPorts(0)
                        .getTargetPort())
                .isEqualTo(8080);
        assertThat(parsed.getAuthorizationPoliciesList()).containsExactly("default/allow-a");
        assertThat(parsed.getStatus()).isEqualTo(WorkloadStatus.UNHEALTHY);
        assertThat(parsed.getClusterId()).isEqualTo("cluster-1");
        assertThat(parsed.getLocality().getSubzone()).isEqualTo("s");
        assertThat(parsed.getCapacity().getValue()).isEqualTo(3);
        assertThat(parsed.getCanonicalRevision()).isEqualTo("v1");
        assertThat(parsed.getWorkloadName()).isEqualTo("a-deploy");
    }

    @Test
    void serviceAndNetworkAddressFieldsSitAtTheirWireNumbers() throws Exception {
        byte[] s = wire().string(1, "svc")
                .string(2, "default")
                .string(3, "svc.default.svc.cluster.local")
                .message(4, wire().string(1, "net1").bytes(2, new byte[] {10, 96, 0, 1}))
                .message(5, wire().varint(1, 80).varint(2, 8080).varint(3, 1))
                .string(6, "spiffe://td/ns/default/sa/x")
                .message(7, wire().message(1, wire().string(1, "default").string(2, "wp.default")))
                .message(8, wire().varint(1, 4).varint(2, 2).varint(3, 1))
                .varint(9, 3)
                .varint(11, 1)
                .varint(14, 1)
                .build();
        var svc = Address.parseFrom(wire().bytes(2, s).build()).getService();
        assertThat(svc.getAddresses(0).getNetwork()).isEqualTo("net1");
        assertThat(svc.getPorts(0).getAppProtocolValue()).isEqualTo(1);
        assertThat(svc.getWaypoint().getHostname().getHostname()).isEqualTo("wp.default");
        assertThat(svc.getLoadBalancing().getRoutingPreferenceValue(0)).isEqualTo(4);
        assertThat(svc.getLoadBalancing().getModeValue()).isEqualTo(2);
        assertThat(svc.getLoadBalancing().getHealthPolicyValue()).isEqualTo(1);
        assertThat(svc.getIpFamiliesValue()).isEqualTo(3);
        assertThat(svc.getCanonical()).isTrue();
        assertThat(svc.getVisibilityValue()).isEqualTo(1);
        assertThat(svc.getSubjectAltNames(0)).isEqualTo("spiffe://td/ns/default/sa/x");
    }

    @Test
    void authorizationFieldsSitAtTheirWireNumbers() throws Exception {
        byte[] match = wire().message(1, wire().string(1, "ns1"))
                .message(2, wire().string(2, "pre"))
                .message(3, wire().string(3, "suf"))
                .message(4, wire().message(4, wire()))
                .message(5, wire().bytes(1, new byte[] {10, 0, 0, 0}).varint(2, 8))
                .message(6, wire().bytes(1, new byte[] {10, 1, 0, 0}).varint(2, 16))
                .message(7, wire().bytes(1, new byte[] {10, 2, 0, 0}).varint(2, 16))
                .message(8, wire().bytes(1, new byte[] {10, 3, 0, 0}).varint(2, 16))
                .varint(9, 8080)
                .varint(10, 9090)
                .message(11, wire().string(1, "ns2").string(2, "sa2"))
                .message(12, wire().string(1, "ns3").string(2, "sa3"))
                .build();
        byte[] authz = wire().string(1, "p")
                .string(2, "ns")
                .varint(3, 2) // WORKLOAD_SELECTOR
                .varint(4, 1) // DENY
                .message(5, wire().message(1, wire().bytes(2, match)))
                .varint(6, 1)
                .build();
        var a = Authorization.parseFrom(authz);
        assertThat(a.getScopeValue()).isEqualTo(2);
        assertThat(a.getActionValue()).isEqualTo(1);
        assertThat(a.getDryRun()).isTrue();
        Match m = a.getRules(0).getClauses(0).getMatches(0);
        assertThat(m.getNamespaces(0).getExact()).isEqualTo("ns1");
        assertThat(m.getNotNamespaces(0).getPrefix()).isEqualTo("pre");
        assertThat(m.getPrincipals(0).getSuffix()).isEqualTo("suf");
        assertThat(m.getNotPrincipals(0).hasPresence()).isTrue();
        assertThat(m.getSourceIps(0).getLength()).isEqualTo(8);
        assertThat(m.getNotSourceIps(0).getLength()).isEqualTo(16);
        assertThat(m.getDestinationIps(0).getAddress().byteAt(1)).isEqualTo((byte) 2);
        assertThat(m.getNotDestinationIps(0).getAddress().byteAt(1)).isEqualTo((byte) 3);
        assertThat(m.getDestinationPortsList()).containsExactly(8080);
        assertThat(m.getNotDestinationPortsList()).containsExactly(9090);
        assertThat(m.getServiceAccounts(0).getServiceAccount()).isEqualTo("sa2");
        assertThat(m.getNotServiceAccounts(0).getNamespace()).isEqualTo("ns3");
    }

    @Test
    void deltaDiscoveryAndCaFieldsSitAtTheirWireNumbers() throws Exception {
        var req = DeltaDiscoveryRequest.parseFrom(
                wire().message(1, wire().string(1, "ztunnel~10.0.0.1~p.ns~ns.svc.cluster.local"))
                        .string(2, "type.googleapis.com/istio.workload.Address")
                        .string(3, "*")
                        .string(4, "gone")
                        .message(5, wire().string(1, "uid-1").string(2, "v7"))
                        .string(6, "nonce-1")
                        .message(7, wire().varint(1, 3).string(2, "uid-2: bad"))
                        .build());
        assertThat(req.getNode().getId()).startsWith("ztunnel~");
        assertThat(req.getResourceNamesSubscribeList()).containsExactly("*");
        assertThat(req.getResourceNamesUnsubscribeList()).containsExactly("gone");
        assertThat(req.getInitialResourceVersionsMap()).containsEntry("uid-1", "v7");
        assertThat(req.getResponseNonce()).isEqualTo("nonce-1");
        assertThat(req.getErrorDetail().getMessage()).isEqualTo("uid-2: bad");

        var resp = DeltaDiscoveryResponse.parseFrom(wire().string(1, "sys")
                .message(
                        2,
                        wire().string(1, "v1")
                                .message(2, wire().string(1, "type.googleapis.com/x"))
                                .string(3, "name-1"))
                .string(4, "type.googleapis.com/istio.security.Authorization")
                .string(5, "n-2")
                .string(6, "ns/removed")
                .build());
        assertThat(resp.getResources(0).getName()).isEqualTo("name-1");
        assertThat(resp.getResources(0).getVersion()).isEqualTo("v1");
        assertThat(resp.getResources(0).getResource().getTypeUrl()).isEqualTo("type.googleapis.com/x");
        assertThat(resp.getNonce()).isEqualTo("n-2");
        assertThat(resp.getRemovedResourcesList()).containsExactly("ns/removed");

        var ca = IstioCertificateRequest.parseFrom(wire().string(1, "-----BEGIN CERTIFICATE REQUEST-----")
                .varint(3, 86400)
                .build());
        assertThat(ca.getValidityDuration()).isEqualTo(86400);
    }

    @Test
    void unknownFieldsAndEnumValuesAreKeptNotRefused() throws Exception {
        byte[] w = wire().string(20, "uid")
                .varint(5, 7) // a TunnelProtocol this file does not know
                .varint(12, 99) // a WorkloadType this file does not know
                .string(99, "from a newer istiod")
                .build();
        Workload parsed = Workload.parseFrom(w);
        assertThat(parsed.getTunnelProtocolValue()).isEqualTo(7);
        assertThat(parsed.getTunnelProtocol()).isEqualTo(io.ambit.xds.proto.workload.TunnelProtocol.UNRECOGNIZED);
        assertThat(parsed.getWorkloadTypeValue()).isEqualTo(99);
        assertThat(parsed.getUnknownFields().hasField(99)).isTrue();
        // and they survive re-encoding, so a config dump or a relay loses nothing
        assertThat(Workload.parseFrom(parsed.toByteArray()).getUnknownFields().hasField(99))
                .isTrue();
        assertThat(GatewayAddress.getDefaultInstance().getHboneMtlsPort()).isZero();
        assertThat(ByteString.EMPTY.size()).isZero();
    }
}

package io.ambit.xds.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.Empty;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.UInt32Value;
import io.ambit.policy.mesh.MeshConfig;
import io.ambit.xds.convert.AddressConverter;
import io.ambit.xds.convert.AuthorizationConverter;
import io.ambit.xds.convert.InvalidResourceException;
import io.ambit.xds.proto.security.Action;
import io.ambit.xds.proto.security.Authorization;
import io.ambit.xds.proto.security.Clause;
import io.ambit.xds.proto.security.Match;
import io.ambit.xds.proto.security.Rule;
import io.ambit.xds.proto.security.Scope;
import io.ambit.xds.proto.security.ServiceAccountMatch;
import io.ambit.xds.proto.security.StringMatch;
import io.ambit.xds.proto.workload.Address;
import io.ambit.xds.proto.workload.GatewayAddress;
import io.ambit.xds.proto.workload.NetworkAddress;
import io.ambit.xds.proto.workload.Port;
import io.ambit.xds.proto.workload.PortList;
import io.ambit.xds.proto.workload.Service;
import io.ambit.xds.proto.workload.TunnelProtocol;
import io.ambit.xds.proto.workload.Workload;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * xDS resources from the control plane (security-cases row 35: a malformed control-plane message must not
 * crash the data plane): valid {@code istio.workload.Address} and {@code istio.security.Authorization}
 * resources, mutated byte by byte (bit flips, inserted, deleted and duplicated runs, truncation), and
 * plain random bytes. Conversion either yields a value or refuses the resource by name with
 * {@link InvalidResourceException} (a NACK naming it; the last good state stays) — never another exception.
 */
class XdsResourceFuzzTest {
    private static final String WORKLOAD_NAME = "Kubernetes//Pod/default/app-1";

    @Property(seed = FuzzInputs.SEED)
    void mutatedAddressesAreConvertedOrRefusedByName(
            @ForAll("addresses") byte[] valid, @ForAll("edits") List<FuzzInputs.Edit> edits) {
        byte[] bytes = FuzzInputs.mutate(valid, edits);
        Any any = Any.newBuilder()
                .setTypeUrl(AddressConverter.TYPE_URL)
                .setValue(ByteString.copyFrom(bytes))
                .build();
        try {
            AddressConverter.Converted c = AddressConverter.convert(nameOf(valid), any);
            FuzzInputs.outcome(true);
            assertThat(c.workload() == null).isNotEqualTo(c.service() == null);
        } catch (InvalidResourceException e) {
            FuzzInputs.outcome(false);
            assertThat(e.getMessage()).contains(nameOf(valid));
        }
    }

    @Property(seed = FuzzInputs.SEED)
    void randomBytesAreRefusedOrConvertedNeverThrowOtherwise(@ForAll("randomBytes") byte[] bytes) {
        Any any = Any.newBuilder()
                .setTypeUrl(AddressConverter.TYPE_URL)
                .setValue(ByteString.copyFrom(bytes))
                .build();
        try {
            AddressConverter.convert("res-2", any);
        } catch (InvalidResourceException e) {
            assertThat(e.getMessage()).contains("res-2");
        }
    }

    @Property(seed = FuzzInputs.SEED)
    void mutatedAuthorizationsAreConvertedOrRefusedByName(
            @ForAll("authorizations") byte[] valid, @ForAll("edits") List<FuzzInputs.Edit> edits) {
        byte[] bytes = FuzzInputs.mutate(valid, edits);
        Authorization a;
        try {
            a = Authorization.parseFrom(bytes);
        } catch (InvalidProtocolBufferException e) {
            FuzzInputs.outcome(false);
            return; // the ADS client refuses it as undecodable, by name
        }
        try {
            AuthorizationConverter.convert("default/policy-1", a, MeshConfig.DEFAULT, 1);
            FuzzInputs.outcome(true);
        } catch (InvalidResourceException e) {
            FuzzInputs.outcome(false);
            assertThat(e.getMessage()).contains("default/policy-1");
        }
    }

    /** The seeds of the mutations are resources istiod would send, and they convert. */
    @Example
    void theUnmutatedResourcesConvert() throws Exception {
        for (byte[] valid : addresses().allValues().orElseThrow().toList()) {
            AddressConverter.convert(
                    nameOf(valid),
                    Any.newBuilder()
                            .setTypeUrl(AddressConverter.TYPE_URL)
                            .setValue(ByteString.copyFrom(valid))
                            .build());
        }
        for (byte[] valid : authorizations().allValues().orElseThrow().toList()) {
            AuthorizationConverter.convert("default/policy-1", Authorization.parseFrom(valid), MeshConfig.DEFAULT, 1);
        }
    }

    @Provide
    Arbitrary<List<FuzzInputs.Edit>> edits() {
        return FuzzInputs.edits(3);
    }

    @Provide
    Arbitrary<byte[]> randomBytes() {
        return Arbitraries.bytes().array(byte[].class).ofMaxSize(300);
    }

    @Provide
    Arbitrary<byte[]> addresses() {
        Workload workload = Workload.newBuilder()
                .setUid(WORKLOAD_NAME)
                .setName("app-1")
                .setNamespace("default")
                .addAddresses(ip("10.0.0.7"))
                .setTunnelProtocol(TunnelProtocol.HBONE)
                .setServiceAccount("app")
                .setTrustDomain("cluster.local")
                .setNode("node-1")
                .setCanonicalName("app")
                .setCanonicalRevision("v1")
                .setWorkloadName("app")
                .putServices(
                        "default/app.default.svc.cluster.local",
                        PortList.newBuilder()
                                .addPorts(Port.newBuilder().setServicePort(80).setTargetPort(8080))
                                .build())
                .setWaypoint(GatewayAddress.newBuilder()
                        .setAddress(NetworkAddress.newBuilder().setAddress(ip("10.0.0.9")))
                        .setHboneMtlsPort(15008))
                .setCapacity(UInt32Value.of(1))
                .build();
        Service service = Service.newBuilder()
                .setName("app")
                .setNamespace("default")
                .setHostname("app.default.svc.cluster.local")
                .addAddresses(NetworkAddress.newBuilder().setAddress(ip("10.96.0.10")))
                .addAddresses(NetworkAddress.newBuilder().setAddress(ip("fd00::10")))
                .addPorts(Port.newBuilder().setServicePort(80).setTargetPort(8080))
                .addSubjectAltNames("spiffe://cluster.local/ns/default/sa/app")
                .build();
        return Arbitraries.of(
                Address.newBuilder().setWorkload(workload).build().toByteArray(),
                Address.newBuilder().setService(service).build().toByteArray());
    }

    @Provide
    Arbitrary<byte[]> authorizations() {
        Match match = Match.newBuilder()
                .addNamespaces(StringMatch.newBuilder().setExact("default"))
                .addPrincipals(StringMatch.newBuilder().setPrefix("cluster.local/ns/"))
                .addNotPrincipals(StringMatch.newBuilder().setSuffix("/sa/evil"))
                .addNotNamespaces(StringMatch.newBuilder().setPresence(Empty.getDefaultInstance()))
                .addSourceIps(io.ambit.xds.proto.security.Address.newBuilder()
                        .setAddress(ip("10.0.0.0"))
                        .setLength(8))
                .addDestinationPorts(8080)
                .addServiceAccounts(
                        ServiceAccountMatch.newBuilder().setNamespace("default").setServiceAccount("app"))
                .build();
        Authorization a = Authorization.newBuilder()
                .setName("policy-1")
                .setNamespace("default")
                .setScope(Scope.NAMESPACE)
                .setAction(Action.DENY)
                .addRules(Rule.newBuilder().addClauses(Clause.newBuilder().addMatches(match)))
                .build();
        return Arbitraries.just(a.toByteArray());
    }

    /** The resource name istiod gives an Address: the workload's uid, or the service's namespace/hostname. */
    private static String nameOf(byte[] validAddress) {
        try {
            Address a = Address.parseFrom(validAddress);
            return a.hasWorkload()
                    ? a.getWorkload().getUid()
                    : a.getService().getNamespace() + "/" + a.getService().getHostname();
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException(e);
        }
    }

    private static ByteString ip(String text) {
        return ByteString.copyFrom(java.net.InetAddress.ofLiteral(text).getAddress());
    }
}

package io.ambit.xds.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NodeInfoTest {
    @TempDir
    Path dir;

    @Test
    void ztunnelsNodeIdAndMetadataAreWhatIstiodParses() {
        var n = NodeInfo.ztunnel("10.0.0.5", "ztunnel-abc", "istio-system", "node-1", "Kubernetes", Map.of("X", "y"));
        assertThat(n.id()).isEqualTo("ztunnel~10.0.0.5~ztunnel-abc.istio-system~istio-system.svc.cluster.local");
        var meta = n.toProto().getMetadata().getFieldsMap();
        assertThat(meta.get("NAME").getStringValue()).isEqualTo("ztunnel-abc");
        assertThat(meta.get("NAMESPACE").getStringValue()).isEqualTo("istio-system");
        assertThat(meta.get("INSTANCE_IPS").getStringValue()).isEqualTo("10.0.0.5");
        assertThat(meta.get("NODE_NAME").getStringValue()).isEqualTo("node-1");
        assertThat(meta.get("CLUSTER_ID").getStringValue()).isEqualTo("Kubernetes");
        assertThat(meta.get("X").getStringValue()).isEqualTo("y");
    }

    @Test
    void anUnknownInstanceIpIsWrittenAsZtunnelWritesIt() {
        assertThat(NodeInfo.ztunnel("", "p", "ns", "", "", Map.of()).id()).startsWith("ztunnel~1.1.1.1~p.ns~");
    }

    @Test
    void anotherProxyTypeKeepsTheLayoutAndCarriesStructuredMetadata() {
        var n = NodeInfo.of(
                "waypoint",
                "10.0.0.7",
                "wp-1",
                "shop",
                "node-2",
                "c1",
                Map.of("LABELS", Map.of("a", "b"), "PORTS", List.of(1, 2)));
        assertThat(n.id()).isEqualTo("waypoint~10.0.0.7~wp-1.shop~shop.svc.cluster.local");
        var meta = n.toProto().getMetadata().getFieldsMap();
        assertThat(meta.get("LABELS").getStructValue().getFieldsMap().get("a").getStringValue())
                .isEqualTo("b");
        assertThat(meta.get("PORTS").getListValue().getValuesCount()).isEqualTo(2);
    }

    @Test
    void theTokenIsReadAgainWhenTheFileChangesAndBadFilesAreNamed() throws Exception {
        Path token = dir.resolve("istio-token");
        Files.writeString(token, "one\n");
        var b = new BearerToken(token, "c1", Map.of());
        assertThat(b.token()).isEqualTo("one");
        Files.writeString(token, "second-token");
        assertThat(b.token()).isEqualTo("second-token");
        Files.writeString(token, "");
        assertThatThrownBy(b::token).hasMessage("it is empty");
        Files.writeString(token, "a b");
        assertThatThrownBy(b::token).hasMessageContaining("cannot go in a header");
        Files.write(token, new byte[(int) BearerToken.MAX_TOKEN_BYTES + 1]);
        assertThatThrownBy(b::token).hasMessageContaining("expected: at most 65536");
    }
}

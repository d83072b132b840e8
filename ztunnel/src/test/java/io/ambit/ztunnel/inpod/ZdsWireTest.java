package io.ambit.ztunnel.inpod;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.ztunnel.inpod.zds.Ack;
import io.ambit.ztunnel.inpod.zds.Version;
import io.ambit.ztunnel.inpod.zds.WorkloadRequest;
import io.ambit.ztunnel.inpod.zds.WorkloadResponse;
import io.ambit.ztunnel.inpod.zds.ZdsHello;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * ZDS as bytes on the SEQPACKET socket (ztunnel-reference §4.6), written here by hand from the field
 * numbers istio-cni's node agent uses, not from our own .proto: the fake agent of the other tests is
 * generated from the same file as the client, so a wrong number there would go unnoticed until a real
 * agent spoke (DelWorkload.uid is field 2, keep is 5 — the easy ones to get wrong).
 */
class ZdsWireTest {
    @Test
    void ourHelloAndAcksAreTheBytesTheAgentExpects() {
        assertThat(ZdsHello.newBuilder().setVersion(Version.V1).build().toByteArray())
                .containsExactly(0x08, 0x01);
        assertThat(WorkloadResponse.newBuilder()
                        .setAck(Ack.newBuilder().setError(""))
                        .build()
                        .toByteArray())
                .as("an ack without error is an empty Ack in field 1")
                .containsExactly(0x0a, 0x00);
        assertThat(WorkloadResponse.newBuilder()
                        .setAck(Ack.newBuilder().setError("no"))
                        .build()
                        .toByteArray())
                .containsExactly(0x0a, 0x04, 0x0a, 0x02, 'n', 'o');
    }

    @Test
    void theAgentsAddKeepDelAndSnapshotSentParseToTheirFields() throws Exception {
        byte[] info = concat(field(1, "pod-a"), field(2, "shop"), field(3, "sleep"));
        byte[] add = field(1, concat(field(1, "uid-1"), field(2, info)));
        var addRequest = WorkloadRequest.parseFrom(add);
        assertThat(addRequest.hasAdd()).isTrue();
        assertThat(addRequest.getAdd().getUid()).isEqualTo("uid-1");
        assertThat(addRequest.getAdd().getWorkloadInfo().getName()).isEqualTo("pod-a");
        assertThat(addRequest.getAdd().getWorkloadInfo().getNamespace()).isEqualTo("shop");
        assertThat(addRequest.getAdd().getWorkloadInfo().getServiceAccount()).isEqualTo("sleep");

        var del = WorkloadRequest.parseFrom(field(2, field(2, "uid-1")));
        assertThat(del.hasDel()).isTrue();
        assertThat(del.getDel().getUid()).isEqualTo("uid-1");

        var keep = WorkloadRequest.parseFrom(field(5, field(1, "uid-2")));
        assertThat(keep.hasKeep()).isTrue();
        assertThat(keep.getKeep().getUid()).isEqualTo("uid-2");

        var snapshot = WorkloadRequest.parseFrom(new byte[] {0x1a, 0x00});
        assertThat(snapshot.hasSnapshotSent()).isTrue();

        var hello = ZdsHello.parseFrom(new byte[] {0x08, 0x01});
        assertThat(hello.getVersion()).isEqualTo(Version.V1);
    }

    /** A length-delimited field (wire type 2) of a message. */
    private static byte[] field(int number, byte[] value) {
        var out = new ByteArrayOutputStream();
        out.write(number << 3 | 2);
        out.write(value.length); // every test value is shorter than 128 bytes: one varint byte
        out.writeBytes(value);
        return out.toByteArray();
    }

    private static byte[] field(int number, String value) {
        return field(number, value.getBytes(StandardCharsets.UTF_8));
    }

    private static byte[] concat(byte[]... parts) {
        var out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }
}

package io.ambit.xds.file;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ambit.policy.load.LoadError;
import io.ambit.policy.match.IpAddress;
import io.ambit.xds.mesh.MeshSource;
import io.ambit.xds.mesh.MeshState;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LocalFileSourceTest {
    @TempDir
    Path dir;

    private long mtime = 1_000_000;

    /** Fires by hand: the test thread is the control thread, so no sleeps. */
    static final class ManualTrigger implements ChangeTrigger {
        Runnable check;
        boolean closed;

        @Override
        public void start(Runnable check) {
            this.check = check;
        }

        void fire() {
            check.run();
        }

        @Override
        public void close() {
            closed = true;
        }
    }

    static final class Recorder implements MeshSource.Listener {
        final List<MeshState> updates = new ArrayList<>();
        final List<List<LoadError>> rejections = new ArrayList<>();

        @Override
        public void updated(MeshState state) {
            updates.add(state);
        }

        @Override
        public void rejected(List<LoadError> errors) {
            rejections.add(errors);
        }
    }

    private static String mesh(String ip) {
        return "workloads:\n- {name: a, namespace: ns, workloadIps: [\"" + ip + "\"]}\n";
    }

    /** Writes and moves the modification time forward, as an editor's save does. */
    private void write(Path file, String text) throws Exception {
        Files.writeString(file, text);
        Files.setLastModifiedTime(file, FileTime.fromMillis(mtime += 1000));
    }

    @Test
    void anEditIsPublishedOnTheNextCheckAndListenersAreTold() throws Exception {
        var file = dir.resolve("mesh.yaml");
        write(file, mesh("127.0.0.1"));
        var trigger = new ManualTrigger();
        try (var source = LocalFileSource.open(file, trigger)) {
            var recorder = new Recorder();
            source.addListener(recorder);
            var first = source.current();
            assertThat(first.workload(IpAddress.parse("127.0.0.1"))).isPresent();

            trigger.fire(); // nothing changed
            assertThat(source.current()).isSameAs(first);

            write(file, mesh("127.0.0.2"));
            trigger.fire();

            assertThat(source.current().workload(IpAddress.parse("127.0.0.2"))).isPresent();
            assertThat(source.current().workload(IpAddress.parse("127.0.0.1"))).isEmpty();
            assertThat(recorder.updates).containsExactly(source.current());
            assertThat(recorder.rejections).isEmpty();
        }
        assertThat(trigger.closed).isTrue();
    }

    @Test
    void aBadEditIsRefusedAndTheLastGoodStateKeepsServing() throws Exception {
        var file = dir.resolve("mesh.yaml");
        write(file, mesh("127.0.0.1"));
        var trigger = new ManualTrigger();
        try (var source = LocalFileSource.open(file, trigger)) {
            var recorder = new Recorder();
            source.addListener(recorder);
            var good = source.current();

            write(
                    file,
                    mesh("127.0.0.1")
                            + "  - {name: b, namespace: ns, workloadIps: [\"127.0.0.1\"]}\n".replace("  - ", "- "));
            trigger.fire();

            assertThat(source.current()).isSameAs(good);
            assertThat(recorder.updates).isEmpty();
            assertThat(recorder.rejections).hasSize(1);
            assertThat(source.lastErrors()).singleElement().satisfies(e -> {
                assertThat(e.file()).isEqualTo(file.toString());
                assertThat(e.line()).isEqualTo(3);
                assertThat(e.field()).isEqualTo("workloads[1].workloadIps[0]");
            });

            // the same bad text touched again is not reported twice
            Files.setLastModifiedTime(file, FileTime.fromMillis(mtime += 1000));
            trigger.fire();
            assertThat(recorder.rejections).hasSize(1);

            write(file, mesh("127.0.0.3"));
            trigger.fire();
            assertThat(source.current().workload(IpAddress.parse("127.0.0.3"))).isPresent();
            assertThat(source.lastErrors()).isEmpty();
            assertThat(recorder.updates).hasSize(1);
        }
    }

    @Test
    void aDeletedFileIsRefusedAndTheStateKept() throws Exception {
        var file = dir.resolve("mesh.yaml");
        write(file, mesh("127.0.0.1"));
        var trigger = new ManualTrigger();
        try (var source = LocalFileSource.open(file, trigger)) {
            var good = source.current();
            Files.delete(file);
            trigger.fire();
            assertThat(source.current()).isSameAs(good);
            assertThat(source.lastErrors()).singleElement().asString().contains("cannot read file");

            write(file, mesh("127.0.0.1"));
            trigger.fire();
            assertThat(source.lastErrors()).isEmpty();
        }
    }

    @Test
    void aListenerThatThrowsDoesNotStopTheOthers() throws Exception {
        var file = dir.resolve("mesh.yaml");
        write(file, mesh("127.0.0.1"));
        var trigger = new ManualTrigger();
        try (var source = LocalFileSource.open(file, trigger)) {
            source.addListener(state -> {
                throw new IllegalStateException("boom");
            });
            var recorder = new Recorder();
            source.addListener(recorder);
            write(file, mesh("127.0.0.2"));
            trigger.fire();
            assertThat(recorder.updates).hasSize(1);
        }
    }

    @Test
    void aBadFileAtStartIsRefusedAndNothingIsWatched() throws Exception {
        var file = dir.resolve("mesh.yaml");
        write(file, "workloads: [{name: a}]\n");
        var trigger = new ManualTrigger();
        assertThatThrownBy(() -> LocalFileSource.open(file, trigger))
                .isInstanceOf(InvalidMeshFileException.class)
                .hasMessageContaining(file + ":1: workloads[0].namespace: is missing");
        assertThat(trigger.check).isNull();
    }
}

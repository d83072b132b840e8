package io.ambit.cli.controlplane;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ambit.cli.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ControlPlaneCommandTest {
    @TempDir
    Path dir;

    @Test
    void aBadMeshFileIsRefusedWithItsProblemAndExitCode2() throws Exception {
        Path file = dir.resolve("bad.yaml");
        Files.writeString(file, "workloads:\n- {name: a, namespace: default, bogus: 1}\n");
        var err = new StringWriter();
        int code = Main.run(
                new PrintWriter(new StringWriter(), true),
                new PrintWriter(err, true),
                "control-plane",
                "--listen",
                "127.91.0.30:0",
                "--ca-dir",
                dir.resolve("ca").toString(),
                file.toString());
        assertThat(code).isEqualTo(2);
        assertThat(err.toString()).startsWith("ambit control-plane: ").contains("bogus");
    }

    @Test
    void aBadListenAddressNamesTheExpectedForm() {
        var err = new StringWriter();
        int code = Main.run(
                new PrintWriter(new StringWriter(), true),
                new PrintWriter(err, true),
                "control-plane",
                "--listen",
                "localhost",
                "x.yaml");
        assertThat(code).isEqualTo(2);
        assertThat(err.toString()).contains("--listen \"localhost\" (expected: IP:PORT such as 127.0.0.1:15012");
        assertThat(ControlPlaneCommand.parse("[::1]:15012").getPort()).isEqualTo(15012);
        assertThatThrownBy(() -> ControlPlaneCommand.parse("127.0.0.1:99999")).hasMessageContaining("expected");
    }

    @Test
    void helpSaysHowToPointAZtunnelAtIt() {
        var out = new StringWriter();
        assertThat(Main.run(
                        new PrintWriter(out, true),
                        new PrintWriter(new StringWriter(), true),
                        "control-plane",
                        "--help"))
                .isZero();
        assertThat(out.toString()).contains("Delta ADS").contains("ambit ztunnel --xds-address");
    }
}

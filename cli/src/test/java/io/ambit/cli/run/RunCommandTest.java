package io.ambit.cli.run;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.cli.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunCommandTest {
    @TempDir
    Path dir;

    @Test
    void aBadMeshFileIsRefusedWithItsProblemAndExitCode2() throws Exception {
        Path file = dir.resolve("bad.yaml");
        Files.writeString(file, "workloads:\n- {name: a, namespace: default, bogus: 1}\n");
        var out = new StringWriter();
        var err = new StringWriter();
        int code = Main.run(
                new PrintWriter(out, true),
                new PrintWriter(err, true),
                "run",
                "--ca-dir",
                dir.resolve("ca").toString(),
                file.toString());
        assertThat(code).isEqualTo(2);
        assertThat(err.toString()).contains("ambit run:").contains("bogus");
    }

    @Test
    void helpDescribesTheListeners() {
        var out = new StringWriter();
        int code = Main.run(new PrintWriter(out, true), new PrintWriter(new StringWriter(), true), "run", "--help");
        assertThat(code).isZero();
        assertThat(out.toString()).contains("SOCKS5").contains("FILE");
    }
}

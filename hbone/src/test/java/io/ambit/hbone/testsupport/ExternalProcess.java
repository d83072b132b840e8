package io.ambit.hbone.testsupport;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A process a test starts (node, openssl): its output lines are queued as they come; {@link #close()}
 * destroys exactly this process if it is still running.
 */
public final class ExternalProcess implements AutoCloseable {
    private final Process process;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final StringBuffer all = new StringBuffer();
    private final Thread reader;

    private ExternalProcess(Process process) {
        this.process = process;
        this.reader = new Thread(
                () -> {
                    try (BufferedReader r = new BufferedReader(
                            new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                        for (String line; (line = r.readLine()) != null; ) {
                            all.append(line).append('\n');
                            lines.add(line);
                        }
                    } catch (IOException e) {
                        // the process went away
                    }
                },
                "process-output");
        reader.setDaemon(true);
        reader.start();
    }

    /** Starts {@code command} with stderr merged into stdout. */
    public static ExternalProcess start(List<String> command) throws IOException {
        return new ExternalProcess(
                new ProcessBuilder(command).redirectErrorStream(true).start());
    }

    public static boolean available(String executable) {
        return Files.isExecutable(Path.of(executable));
    }

    /** The next output line, waiting up to {@link Await#TIMEOUT}. */
    public String nextLine() throws Exception {
        String line = lines.poll(Await.TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        if (line == null) {
            throw new TimeoutException("no output within " + Await.TIMEOUT + "; so far:\n" + all);
        }
        return line;
    }

    /** Writes {@code text} to stdin and closes it. */
    public void closeStdin(String text) throws IOException {
        process.getOutputStream().write(text.getBytes(StandardCharsets.UTF_8));
        process.getOutputStream().close();
    }

    /** Waits for the process to exit and returns everything it printed. */
    public String awaitOutput() throws Exception {
        if (!process.waitFor(Await.TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new TimeoutException("process still running after " + Await.TIMEOUT + "; output:\n" + all);
        }
        reader.join(Await.TIMEOUT.toMillis()); // it ends at end-of-output
        return all.toString();
    }

    public int exitValue() {
        return process.exitValue();
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroy();
        }
    }
}

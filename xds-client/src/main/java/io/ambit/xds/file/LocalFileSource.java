package io.ambit.xds.file;

import io.ambit.policy.load.LoadError;
import io.ambit.xds.mesh.MeshExtension;
import io.ambit.xds.mesh.MeshSource;
import io.ambit.xds.mesh.MeshState;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The mesh from a local file ({@link LocalMeshFile}), reloaded when it changes. The state is published
 * through one {@link AtomicReference}; a refused edit is logged with every problem and the last good
 * state keeps serving. Reloads and listener calls happen on the trigger's control thread.
 */
public final class LocalFileSource implements MeshSource {
    private static final Logger log = LoggerFactory.getLogger(LocalFileSource.class);

    /** Bigger than any mesh a laptop file describes; keeps a mistaken path from filling the heap. */
    static final long MAX_BYTES = 64L * 1024 * 1024;

    private final Path file;
    private final ChangeTrigger trigger;
    private final List<MeshExtension<?>> extensions;
    private final AtomicReference<MeshState> state = new AtomicReference<>();
    private final List<Listener> listeners = new CopyOnWriteArrayList<>();
    private volatile List<LoadError> lastErrors = List.of();

    // Control thread only (guarded by this, for the first load on the opener's thread).
    private Stamp stamp;
    private String lastText;

    /** What changes when a file is edited or replaced; compared, never interpreted. */
    private record Stamp(long modifiedNanos, long size, Object fileKey) {
        static Stamp of(Path file) {
            try {
                var a = Files.readAttributes(file, BasicFileAttributes.class);
                return new Stamp(
                        a.lastModifiedTime().to(java.util.concurrent.TimeUnit.NANOSECONDS), a.size(), a.fileKey());
            } catch (IOException e) {
                return new Stamp(-1, -1, null); // missing: reported when the reload reads it
            }
        }
    }

    private LocalFileSource(Path file, ChangeTrigger trigger, List<MeshExtension<?>> extensions) {
        this.file = file;
        this.trigger = trigger;
        this.extensions = List.copyOf(extensions);
    }

    /** Loads the file and polls it every second. */
    public static LocalFileSource open(Path file) throws InvalidMeshFileException {
        return open(file, ChangeTrigger.polling(Duration.ofSeconds(1)));
    }

    /**
     * Loads the file on the caller's thread, then hands {@code trigger} the check to run on changes.
     *
     * @throws InvalidMeshFileException when the first load fails: a proxy must not start on a bad file
     */
    public static LocalFileSource open(Path file, ChangeTrigger trigger) throws InvalidMeshFileException {
        return open(file, trigger, MeshExtension.installed());
    }

    /**
     * As {@link #open(Path, ChangeTrigger)}, reading the documents of {@code extensions}' kinds instead of
     * those of the {@linkplain MeshExtension#installed() installed} ones.
     */
    public static LocalFileSource open(Path file, ChangeTrigger trigger, List<MeshExtension<?>> extensions)
            throws InvalidMeshFileException {
        var source = new LocalFileSource(file, trigger, extensions);
        synchronized (source) {
            source.stamp = Stamp.of(file);
            String text = source.read();
            source.lastText = text;
            source.state.set(LocalMeshFile.parse(text, file.toString(), source.extensions));
        }
        log.info("mesh loaded: {}", source.state.get());
        trigger.start(source::check);
        return source;
    }

    @Override
    public MeshState current() {
        return state.get();
    }

    @Override
    public void addListener(Listener listener) {
        listeners.add(listener);
    }

    /** The problems of the last refused edit; empty once a good file loads again. */
    public List<LoadError> lastErrors() {
        return lastErrors;
    }

    public Path file() {
        return file;
    }

    @Override
    public void close() {
        trigger.close();
    }

    /** Reloads when the file's modification time, size or identity changed since the last look. */
    synchronized void check() {
        var now = Stamp.of(file);
        if (now.equals(stamp)) {
            return;
        }
        stamp = now;
        String text;
        MeshState next;
        try {
            text = read();
            if (text.equals(lastText)) {
                return; // touched, not changed
            }
            lastText = text;
            next = LocalMeshFile.parse(text, file.toString(), extensions);
        } catch (InvalidMeshFileException e) {
            lastErrors = e.errors();
            log.warn("mesh file refused, keeping the last good state:\n{}", e.getMessage());
            for (var l : listeners) {
                notify(() -> l.rejected(e.errors()));
            }
            return;
        }
        state.set(next);
        lastErrors = List.of();
        log.info("mesh reloaded: {}", next);
        for (var l : listeners) {
            notify(() -> l.updated(next));
        }
    }

    private String read() throws InvalidMeshFileException {
        try {
            long size = Files.size(file);
            if (size > MAX_BYTES) {
                throw new InvalidMeshFileException(List.of(new LoadError(
                        file.toString(),
                        0,
                        null,
                        null,
                        "is " + size + " bytes (expected: at most " + MAX_BYTES + ")")));
            }
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException | java.io.UncheckedIOException e) {
            lastText = null; // read again once readable, even if the text turns out the same
            throw new InvalidMeshFileException(
                    List.of(new LoadError(file.toString(), 0, null, null, "cannot read file: " + e)));
        }
    }

    private static void notify(Runnable call) {
        try {
            call.run();
        } catch (RuntimeException e) {
            // one failing listener must not keep the others from the new state
            log.error("mesh listener failed", e);
        }
    }
}

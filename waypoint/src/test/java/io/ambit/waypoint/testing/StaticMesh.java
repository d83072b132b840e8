package io.ambit.waypoint.testing;

import io.ambit.xds.file.InvalidMeshFileException;
import io.ambit.xds.file.LocalMeshFile;
import io.ambit.xds.mesh.MeshSource;
import io.ambit.xds.mesh.MeshState;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;

/** A mesh source a test sets by hand (the local file's parser, without a file or a watcher). */
public final class StaticMesh implements MeshSource {
    private final AtomicReference<MeshState> current = new AtomicReference<>();
    private final List<Listener> listeners = new CopyOnWriteArrayList<>();

    public StaticMesh(String yaml) {
        set(yaml);
    }

    /** Publishes the mesh the YAML describes (fails the test if it does not load). */
    public void set(String yaml) {
        MeshState state;
        try {
            state = LocalMeshFile.parse(yaml, "test-mesh.yaml");
        } catch (InvalidMeshFileException e) {
            throw new AssertionError("test mesh does not load: " + e.getMessage(), e);
        }
        current.set(state);
        listeners.forEach(l -> l.updated(state));
    }

    @Override
    public MeshState current() {
        return current.get();
    }

    @Override
    public void addListener(Listener listener) {
        listeners.add(listener);
    }

    @Override
    public void close() {}
}

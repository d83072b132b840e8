package io.ambit.xds.kube;

import io.ambit.policy.load.LoadError;
import io.ambit.xds.mesh.MeshExtension;
import io.ambit.xds.mesh.MeshSource;
import io.ambit.xds.mesh.MeshState;
import java.util.HashMap;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One mesh from two sources, as a waypoint in a cluster sees it: workloads and services from istiod (the
 * {@code endpoints} source, over Delta ADS) and policies with the extension values (rate limits) from the
 * Kubernetes API (the {@code policies} source). Whenever either publishes, one new {@link MeshState} is
 * built from the latest of both and published whole; the proxy reads it through {@link #current()} as it
 * reads a file's state. Either source keeps its last good part while the other changes.
 */
public final class ClusterMeshSource implements MeshSource {
    private static final Logger log = LoggerFactory.getLogger(ClusterMeshSource.class);

    private final MeshSource endpoints;
    private final MeshSource policies;
    private final List<MeshExtension<?>> extensions;
    private final AtomicReference<MeshState> state = new AtomicReference<>();
    private final List<Listener> listeners = new CopyOnWriteArrayList<>();

    private ClusterMeshSource(MeshSource endpoints, MeshSource policies, List<MeshExtension<?>> extensions) {
        this.endpoints = endpoints;
        this.policies = policies;
        this.extensions = List.copyOf(extensions);
    }

    /**
     * Merges {@code endpoints}' workloads and services with {@code policies}' policies and the values of
     * {@code extensions}, now and after every update of either. Closing this closes both.
     */
    public static ClusterMeshSource of(MeshSource endpoints, MeshSource policies, List<MeshExtension<?>> extensions) {
        var merged = new ClusterMeshSource(endpoints, policies, extensions);
        Listener relay = new Listener() {
            @Override
            public void updated(MeshState ignored) {
                merged.rebuild();
            }

            @Override
            public void rejected(List<LoadError> errors) {
                merged.tellRejected(errors);
            }
        };
        merged.rebuild();
        endpoints.addListener(relay);
        policies.addListener(relay);
        merged.rebuild(); // an update between the first build and the registration is not lost
        return merged;
    }

    /**
     * Builds and publishes the merged state. Synchronized: the two sources call from their own threads, and
     * listeners must never be called concurrently with themselves.
     */
    private synchronized void rebuild() {
        var e = endpoints.current();
        var p = policies.current();
        var values = new HashMap<Class<?>, Object>();
        for (var x : extensions) {
            p.extension(x.type()).ifPresent(v -> values.put(x.type(), v));
        }
        var next = MeshState.resolving(e.workloads(), e.services(), p.policies(), e.origin() + " + " + p.origin());
        if (!values.isEmpty()) {
            next = next.withExtensions(values);
        }
        state.set(next);
        for (var l : listeners) {
            try {
                l.updated(next);
            } catch (RuntimeException ex) {
                log.error("mesh listener failed", ex);
            }
        }
    }

    private synchronized void tellRejected(List<LoadError> errors) {
        for (var l : listeners) {
            try {
                l.rejected(errors);
            } catch (RuntimeException ex) {
                log.error("mesh listener failed", ex);
            }
        }
    }

    @Override
    public MeshState current() {
        return state.get();
    }

    @Override
    public void addListener(Listener listener) {
        listeners.add(listener);
    }

    @Override
    public void close() {
        endpoints.close();
        policies.close();
    }
}

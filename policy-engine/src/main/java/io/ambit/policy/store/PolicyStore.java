package io.ambit.policy.store;

import io.ambit.policy.crd.PolicySet;
import io.ambit.policy.engine.PolicyCompiler;
import io.ambit.policy.engine.PolicySnapshot;
import io.ambit.policy.mesh.MeshConfig;
import java.time.Clock;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * Holds the current {@link PolicySnapshot}. Readers call {@link #current()} once per connection or
 * request and never lock; the control thread compiles a new snapshot off to the side and swaps it in
 * whole, then tells listeners (which re-check live connections against it).
 *
 * <p>Compilation happens before the swap, so a failure leaves the last good snapshot serving.
 */
public final class PolicyStore {
    private final AtomicReference<PolicySnapshot> current;
    private final List<Consumer<PolicySnapshot>> listeners = new CopyOnWriteArrayList<>();
    private final Clock clock;

    public PolicyStore(MeshConfig mesh, Clock clock) {
        this.clock = clock;
        this.current = new AtomicReference<>(PolicyCompiler.compile(PolicySet.EMPTY, mesh, clock));
    }

    public PolicySnapshot current() {
        return current.get();
    }

    /** Compiles and publishes; returns the new snapshot. Call from one control thread. */
    public PolicySnapshot update(PolicySet policies, MeshConfig mesh) {
        Objects.requireNonNull(policies, "policies");
        var next = PolicyCompiler.compile(policies, mesh, clock);
        current.set(next);
        for (var l : listeners) {
            l.accept(next);
        }
        return next;
    }

    /** Called on the control thread after every swap. */
    public void onUpdate(Consumer<PolicySnapshot> listener) {
        listeners.add(listener);
    }
}

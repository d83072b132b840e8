package io.ambit.xds.mesh;

import io.ambit.policy.load.LoadError;
import java.util.List;

/**
 * Where the mesh state comes from: the local file now ({@code io.ambit.xds.file.LocalFileSource}),
 * istiod over xDS next. A source publishes each new state whole; readers call {@link #current()} once
 * per connection. A rejected update leaves the last good state in place.
 */
public interface MeshSource extends AutoCloseable {
    /** The last good state; never null. */
    MeshState current();

    /**
     * Registers a listener, called on the source's control thread after each published state or
     * rejected update, never concurrently with itself.
     */
    void addListener(Listener listener);

    /** Stops watching; {@link #current()} keeps answering with the last state. */
    @Override
    void close();

    /** Told about every change of the source. */
    interface Listener {
        /** A new state is published (already visible through {@link MeshSource#current()}). */
        void updated(MeshState state);

        /** An update was refused; the previous state still serves. */
        default void rejected(List<LoadError> errors) {}
    }
}

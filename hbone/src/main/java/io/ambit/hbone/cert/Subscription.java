package io.ambit.hbone.cert;

/** A registered listener; {@link #close()} removes it. */
@FunctionalInterface
public interface Subscription extends AutoCloseable {
    @Override
    void close();
}

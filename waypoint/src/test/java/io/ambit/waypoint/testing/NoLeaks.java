package io.ambit.waypoint.testing;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails a test class when Netty reported a leak while it ran (or before: leaks surface when garbage is
 * collected). Use with {@code @ExtendWith(NoLeaks.class)}; shut event loops down in {@code @AfterAll}
 * first so nothing is still in flight.
 */
public final class NoLeaks implements AfterAllCallback {
    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        if (!LeakRecorder.isInstalled()) {
            return; // not run through the launcher (e.g. an IDE without the service file)
        }
        assertThat(LeakRecorder.collect()).as("Netty leak reports").isEmpty();
    }
}

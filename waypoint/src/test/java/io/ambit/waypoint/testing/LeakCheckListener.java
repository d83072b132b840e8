package io.ambit.waypoint.testing;

import org.junit.platform.launcher.LauncherSession;
import org.junit.platform.launcher.LauncherSessionListener;

/**
 * (Same as hbone's test support, which another module cannot use; a candidate for test-support.)
 * Installs {@link LeakRecorder} when the JUnit launcher starts, before any test touches Netty. */
public final class LeakCheckListener implements LauncherSessionListener {
    @Override
    public void launcherSessionOpened(LauncherSession session) {
        LeakRecorder.install();
    }
}

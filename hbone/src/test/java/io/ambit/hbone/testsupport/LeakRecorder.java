package io.ambit.hbone.testsupport;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import io.netty.util.ResourceLeakDetectorFactory;
import io.netty.util.ResourceLeakTracker;
import java.lang.ref.ReferenceQueue;
import java.lang.ref.WeakReference;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Records Netty's leak reports so tests can fail on them. Installed before any Netty class by
 * {@link LeakCheckListener} (leak detectors are created in static initialisers); surefire runs with
 * {@code -Dio.netty.leakDetection.level=paranoid}, so every buffer, engine and context is tracked. The
 * waypoint's tests use this same copy (with {@link NoLeaks} and the listener) through hbone's test-jar.
 */
public final class LeakRecorder {
    private static final List<String> LEAKS = new CopyOnWriteArrayList<>();
    private static final List<ResourceLeakDetector<?>> DETECTORS = new CopyOnWriteArrayList<>();
    private static volatile boolean installed;

    private LeakRecorder() {}

    static synchronized void install() {
        if (installed) {
            return;
        }
        installed = true;
        ResourceLeakDetectorFactory.setResourceLeakDetectorFactory(new ResourceLeakDetectorFactory() {
            @Override
            @SuppressWarnings("deprecation")
            public <T> ResourceLeakDetector<T> newResourceLeakDetector(
                    Class<T> resource, int samplingInterval, long maxActive) {
                ResourceLeakDetector<T> detector = new ResourceLeakDetector<>(resource, samplingInterval) {
                    @Override
                    protected void reportTracedLeak(String resourceType, String records) {
                        LEAKS.add(resourceType + records);
                        super.reportTracedLeak(resourceType, records);
                    }

                    @Override
                    protected void reportUntracedLeak(String resourceType) {
                        LEAKS.add(resourceType + " (untraced)");
                        super.reportUntracedLeak(resourceType);
                    }
                };
                DETECTORS.add(detector);
                return detector;
            }
        });
    }

    public static boolean isInstalled() {
        return installed;
    }

    /**
     * Collects garbage until a canary is known to be collected, makes every detector look at what was
     * collected, and returns the leak reports so far (and clears them).
     */
    @SuppressWarnings({"unchecked", "rawtypes"})
    public static List<String> collect() throws InterruptedException {
        for (int round = 0; round < 3; round++) {
            ReferenceQueue<Object> queue = new ReferenceQueue<>();
            WeakReference<Object> canary = new WeakReference<>(new Object(), queue);
            for (int i = 0; i < 20 && queue.remove(50) == null; i++) {
                System.gc();
            }
            canary.clear();
            // A detector looks at its reference queue when it tracks something new.
            for (ResourceLeakDetector detector : DETECTORS) {
                Object probe = new Object();
                ResourceLeakTracker tracker = detector.track(probe);
                if (tracker != null) {
                    tracker.close(probe);
                }
            }
            ByteBuf buf = ByteBufAllocator.DEFAULT.buffer(8);
            buf.release();
        }
        List<String> found = List.copyOf(LEAKS);
        LEAKS.clear();
        return found;
    }
}

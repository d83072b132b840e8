package io.ambit.controlplane;

import io.ambit.xds.file.ChangeTrigger;

/** Reloads the mesh file when the test says so: no polling, no timing. */
final class ManualTrigger implements ChangeTrigger {
    private volatile Runnable check;

    @Override
    public void start(Runnable check) {
        this.check = check;
    }

    /** Runs the file check now, on the caller's thread. */
    void fire() {
        check.run();
    }

    @Override
    public void close() {}
}

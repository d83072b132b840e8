package io.ambit.policy.load;

import io.ambit.policy.crd.PolicySet;
import java.util.List;

/**
 * What a load produced: every valid object, every error, and how many documents of other kinds were
 * skipped. A bad object never hides the good ones next to it.
 */
public record LoadResult(PolicySet policies, List<LoadError> errors, int skipped) {
    public LoadResult {
        errors = List.copyOf(errors);
    }

    public boolean ok() {
        return errors.isEmpty();
    }
}

package io.ambit.policy.engine;

/**
 * An extended numeric condition met a value that is not a number. The request fails closed (denied);
 * thrown without a stack trace because it is an answer, not a bug.
 */
final class UncomparableValueException extends RuntimeException {
    /** The policy whose condition failed, set where the policy is known. */
    String policy;

    UncomparableValueException(String key, String value) {
        super(
                "uncomparable value for " + key + ": \"" + Explain.clip(value) + "\" is not a number",
                null,
                false,
                false);
    }
}

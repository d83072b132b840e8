package io.ambit.policy.crd;

import java.util.List;

/**
 * One rule. {@code from} and {@code to} are null when absent (any source, any operation); validation
 * rejects them present but empty. {@code when} is empty when absent.
 */
public record Rule(List<Source> from, List<Operation> to, List<Condition> when) {}

package io.ambit.policy.crd;

import java.util.List;

/** {@code rules[].when[]}: a key with values (any must match) and notValues (none may match). */
public record Condition(String key, List<String> values, List<String> notValues) {}

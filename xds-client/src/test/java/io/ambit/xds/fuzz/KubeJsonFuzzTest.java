package io.ambit.xds.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * JSON from the Kubernetes API server ({@code KubeJson.object}, package-private, so reached reflectively):
 * a watch event mutated with YAML-only syntax (tags, anchors, flow keys), deep nesting and broken JSON is
 * either refused with the module's BadJsonException or yields plain JSON values only — strings, numbers,
 * booleans, null, lists and string-keyed maps — so no reader downstream meets a byte array, a set or a date.
 */
class KubeJsonFuzzTest {

    @Property(seed = FuzzInputs.SEED)
    void aWatchEventIsPlainJsonOrRefused(@ForAll("events") String text) throws Exception {
        Method object =
                Class.forName("io.ambit.xds.kube.KubeJson").getDeclaredMethod("object", String.class, String.class);
        object.setAccessible(true);
        Object value;
        try {
            value = object.invoke(null, text, "a watch event");
        } catch (InvocationTargetException e) {
            FuzzInputs.outcome(false);
            assertThat(e.getCause().getClass().getSimpleName()).isEqualTo("BadJsonException");
            assertThat(e.getCause().getMessage()).startsWith("a watch event ");
            return;
        }
        FuzzInputs.outcome(true);
        assertPlainJson(value, "$");
    }

    /** Regression: {@code !!binary} made a byte array, {@code !!set} a set, {@code {1: 2}} an Integer key. */
    @Example
    void yamlOnlyValuesAreRefusedByPath() throws Exception {
        Method object =
                Class.forName("io.ambit.xds.kube.KubeJson").getDeclaredMethod("object", String.class, String.class);
        object.setAccessible(true);
        for (String spec : new String[] {"!!binary aGVsbG8=", "!!set {a, b}", "{1: 2}"}) {
            try {
                object.invoke(null, "{\"object\":{\"spec\":" + spec + "}}", "a watch event");
                throw new AssertionError("accepted " + spec);
            } catch (InvocationTargetException e) {
                assertThat(e.getCause().getMessage()).startsWith("a watch event is not JSON: $.object.spec");
            }
        }
    }

    private static void assertPlainJson(Object v, String at) {
        if (v == null || v instanceof String || v instanceof Boolean || v instanceof Number) {
            return;
        }
        if (v instanceof List<?> l) {
            for (int i = 0; i < l.size(); i++) {
                assertPlainJson(l.get(i), at + "[" + i + "]");
            }
            return;
        }
        if (v instanceof Map<?, ?> m) {
            for (var e : m.entrySet()) {
                assertThat(e.getKey()).as("key at %s", at).isInstanceOf(String.class);
                assertPlainJson(e.getValue(), at + "." + e.getKey());
            }
            return;
        }
        throw new AssertionError(at + " is a " + v.getClass().getName() + " (expected: a JSON value)");
    }

    @Provide
    Arbitrary<String> events() {
        Arbitrary<String> value = Arbitraries.of(
                "\"x\"",
                "1",
                "-1.5e300",
                "true",
                "null",
                "[]",
                "{}",
                "!!binary aGVsbG8=",
                "!!set {a, b}",
                "!!timestamp 2026-01-01",
                "!!omap [{a: 1}]",
                "!!str 5",
                "!!int \"7\"",
                "!!float x",
                "&a {b: 1}",
                "*a",
                "{? [1, 2] : 3}",
                "{[1]: 2}",
                "{1: 2}",
                "{null: 1}",
                "!<tag:yaml.org,2002:binary> AAAA",
                "!local x",
                "\"\\u0000\"",
                "'single'",
                "[".repeat(50),
                "{\"a\": ".repeat(30) + "1" + "}".repeat(30),
                "\"" + "y".repeat(2000) + "\"",
                "0x1F",
                "0o17",
                ".inf",
                ".nan",
                "~",
                "yes");
        return Combinators.combine(value, value, Arbitraries.of("", " ", ",", "}", "\n", "#c"))
                .as((a, b, tail) -> "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":" + a + "},\"spec\":" + b
                        + "}}" + tail);
    }
}

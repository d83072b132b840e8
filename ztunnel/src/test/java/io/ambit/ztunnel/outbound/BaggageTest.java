package io.ambit.ztunnel.outbound;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.xds.mesh.Locality;
import io.ambit.xds.mesh.Workload;
import org.junit.jupiter.api.Test;

/**
 * The {@code baggage} header of our CONNECTs, as ztunnel writes it ({@code baggage_header_val}): a real
 * ztunnel or waypoint on the other side parses {@code k8s.<type>.name} into the source's workload name
 * for its metrics, so it must carry the owner (Deployment) name under the workload's type, not the pod.
 */
class BaggageTest {
    @Test
    void aDeploymentsPodIsNamedByItsDeploymentInZtunnelsKeyOrder() {
        Workload w = Workload.builder("c1//Pod/shop/web-7d9f-abcde", "web-7d9f-abcde", "shop")
                .workloadName("web")
                .workloadType(Workload.WorkloadType.DEPLOYMENT)
                .canonicalName("web")
                .canonicalRevision("v2")
                .clusterId("east")
                .locality(new Locality("eu-west1", "eu-west1-b", ""))
                .build();

        assertThat(OutboundFlow.baggage(w))
                .isEqualTo("k8s.cluster.name=east,k8s.namespace.name=shop,k8s.deployment.name=web,"
                        + "service.name=web,service.version=v2,cloud.region=eu-west1,"
                        + "cloud.availability_zone=eu-west1-b");
    }

    @Test
    void emptyValuesAreLeftOutAndABarePodKeepsItsOwnName() {
        Workload w = Workload.builder("c1//Pod/shop/solo", "solo", "shop")
                .workloadName("")
                .workloadType(Workload.WorkloadType.POD)
                .canonicalName("solo")
                .canonicalRevision("latest")
                .build();

        assertThat(OutboundFlow.baggage(w))
                .isEqualTo("k8s.namespace.name=shop,k8s.pod.name=solo,service.name=solo,service.version=latest");
    }
}

package io.ambit.xds.convert;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import io.ambit.xds.mesh.Service;
import io.ambit.xds.mesh.Workload;
import io.ambit.xds.proto.workload.Address;

/**
 * One resource of type {@value #TYPE_URL}: an {@code Any} holding an {@code istio.workload.Address},
 * which wraps a workload or a service.
 */
public final class AddressConverter {
    /** The type URL istiod serves workloads and services under. */
    public static final String TYPE_URL = "type.googleapis.com/istio.workload.Address";

    private AddressConverter() {}

    /** A converted Address: exactly one of the two is set. */
    public record Converted(Workload workload, Service service) {}

    /**
     * @throws InvalidResourceException when the payload is of another type, does not decode, is empty or
     *     fails the workload or service checks
     */
    public static Converted convert(String name, Any resource) throws InvalidResourceException {
        if (!resource.getTypeUrl().equals(TYPE_URL)) {
            throw new InvalidResourceException(
                    name, "payload is \"" + resource.getTypeUrl() + "\" (expected: " + TYPE_URL + ")");
        }
        Address address;
        try {
            address = Address.parseFrom(resource.getValue());
        } catch (InvalidProtocolBufferException e) {
            throw new InvalidResourceException(
                    name, "payload does not decode as istio.workload.Address: " + e.getMessage());
        }
        return switch (address.getTypeCase()) {
            case WORKLOAD -> new Converted(WorkloadConverter.convert(name, address.getWorkload()), null);
            case SERVICE -> new Converted(null, ServiceConverter.convert(name, address.getService()));
            case TYPE_NOT_SET ->
                throw new InvalidResourceException(
                        name, "Address holds neither a workload nor a service (expected: one)");
        };
    }
}

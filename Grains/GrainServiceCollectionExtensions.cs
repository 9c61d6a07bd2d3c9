using GroupPay.Grains.Orders;
using GroupPay.Grains.Stats;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace GroupPay.Grains;

public static class GrainServiceCollectionExtensions
{
    /// <summary>What the grains need in a silo besides Orleans itself and the WeChat Pay client: the clock,
    /// the per-silo counter buffer and its flusher, and the order timings (section <c>Orders</c>).</summary>
    public static IServiceCollection AddGroupPayGrains(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton(TimeProvider.System);
        services.AddGroupPayStats();
        services.AddOptions<StatsOptions>().BindConfiguration("Stats");
        services.AddOptions<OrderOptions>().BindConfiguration(OrderOptions.SectionName);
        return services;
    }
}

using GroupPay.Grains.Operations;
using GroupPay.Grains.Orders;
using GroupPay.Grains.Reconciliation;
using GroupPay.Grains.Stats;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace GroupPay.Grains;

public static class GrainServiceCollectionExtensions
{
    /// <summary>What the grains need in a silo besides Orleans itself and the WeChat Pay client: the clock,
    /// the per-silo counter buffer and its flusher, the order timings (section <c>Orders</c>), and the operator queue's
    /// gauges (<see cref="OperatorQueueMetrics"/>), and the daily reconciliation's settings (section <c>Reconciliation</c>)
    /// and the start of its schedule (<see cref="ReconciliationStarter"/>).</summary>
    public static IServiceCollection AddGroupPayGrains(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton(TimeProvider.System);
        services.AddGroupPayStats();
        services.AddOptions<StatsOptions>().BindConfiguration("Stats");
        services.AddOptions<OrderOptions>().BindConfiguration(OrderOptions.SectionName);
        services.AddMetrics();
        services.TryAddSingleton<OperatorQueueMetrics>();
        services.AddHostedService(sp => sp.GetRequiredService<OperatorQueueMetrics>());
        services.AddOptions<ReconciliationOptions>().BindConfiguration(ReconciliationOptions.SectionName).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ReconciliationOptions>, ReconciliationOptionsValidator>());
        services.AddHostedService<ReconciliationStarter>();
        return services;
    }
}

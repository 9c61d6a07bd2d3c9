using GroupPay.Grains.Orders;
using Microsoft.Extensions.Options;

namespace GroupPay.Grains.Campaigns;

/// <summary>One user's units of one campaign (<see cref="IStockLimitGrain"/>). Its state holds at most the limit's
/// reservations. Before refusing, it asks the groups of the ones not heard of for a while whether they still hold them,
/// so a hold that was never stored (or a release that was lost) does not use up the user's limit. A user's limit is
/// asked once per hold and once per release, minutes apart at least, so the activation goes when its call is done:
/// kept for Orleans' idle age it would be a third activation per open group that every collection traces.</summary>
[GrainType("stock-limit")]
public sealed class StockLimitGrain(
    [PersistentState("limit", GrainStorage.Name)] IPersistentState<StockLimitState> state,
    TimeProvider timeProvider,
    IOptions<StockOptions> options) : Grain, IStockLimitGrain
{
    private Dictionary<string, DateTimeOffset> Units => state.State.Units;

    public async Task<bool> TakeAsync(string reservationId, int limit)
    {
        ArgumentException.ThrowIfNullOrEmpty(reservationId);
        DeactivateOnIdle();
        if (Units.ContainsKey(reservationId))
        {
            return true;
        }
        var now = timeProvider.GetUtcNow();
        if (Units.Count >= limit)
        {
            var openid = this.GetPrimaryKeyString()[(this.GetPrimaryKeyString().LastIndexOf('/') + 1)..];
            var dropped = false;
            foreach (var (id, _) in Units.Where(u => now - u.Value >= options.Value.CheckAfter).ToList())
            {
                if (await GrainFactory.GetGrain<IOrderGrain>(ShardStock.GroupOf(id)).GetStockStatusAsync(id, openid) == StockStatus.Gone)
                {
                    dropped = Units.Remove(id);
                }
            }
            if (Units.Count >= limit)
            {
                if (dropped)
                {
                    await state.WriteOrReloadAsync(this);
                }
                return false;
            }
        }
        Units[reservationId] = now;
        await state.WriteOrReloadAsync(this);
        return true;
    }

    public async Task ReleaseAsync(string reservationId)
    {
        DeactivateOnIdle();
        if (Units.Remove(reservationId))
        {
            await state.WriteOrReloadAsync(this);
        }
    }
}

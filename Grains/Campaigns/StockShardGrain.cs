using GroupPay.Grains.Orders;
using Microsoft.Extensions.Options;

namespace GroupPay.Grains.Campaigns;

/// <summary>A share of a campaign's stock (<see cref="IStockShardGrain"/>); the rules are <see cref="ShardStock"/>.
/// Syncs with its campaign when it runs dry and every <see cref="StockOptions.SyncPeriod"/> while active, and asks
/// the groups of reservations it has not heard of for a while whether they still hold them.</summary>
[GrainType("stock-shard")]
public sealed class StockShardGrain(
    [PersistentState("shard", GrainStorage.Name)] IPersistentState<StockShardState> state,
    TimeProvider timeProvider,
    IOptions<StockOptions> options) : Grain, IStockShardGrain, IRemindable
{
    private const string CheckReminder = "check";

    /// <summary>After the campaign had nothing to grant, a dry share answers at once for this long instead of asking again.</summary>
    private const long EmptyBackoffMs = 1_000;

    private ShardStock _stock = null!;
    private string _campaignId = null!;
    private int _index;
    private long? _emptyAt;
    private bool _changedSinceSync = true;
    private DateTimeOffset _checkedAt;

    private StockOptions Options => options.Value;

    private DateTimeOffset Now => timeProvider.GetUtcNow();

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var key = this.GetPrimaryKeyString();
        var slash = key.LastIndexOf('/');
        _campaignId = key[..slash];
        _index = int.Parse(key.AsSpan(slash + 1), System.Globalization.CultureInfo.InvariantCulture);
        _stock = new ShardStock(state.State);
        _checkedAt = Now;
        this.RegisterGrainTimer(TickAsync, new GrainTimerCreationOptions(Options.SyncPeriod, Options.SyncPeriod));
        if (state.State.Live.Count > 0)
        {
            await this.RegisterOrUpdateReminder(CheckReminder, Options.CheckPeriod, Options.CheckPeriod, CancellationToken.None);
        }
        await base.OnActivateAsync(cancellationToken);
    }

    public async Task<StockAnswer> ReserveAsync(string reservationId)
    {
        var hadLive = state.State.Live.Count > 0;
        var answer = _stock.Reserve(reservationId, Now);
        var changed = false;
        if (answer == ShardAnswer.NeedsUnits && (_emptyAt is not { } emptyAt || Environment.TickCount64 - emptyAt >= EmptyBackoffMs))
        {
            changed = await SyncAsync(wantsMore: true);
            answer = _stock.Reserve(reservationId, Now);
            if (answer == ShardAnswer.NeedsUnits)
            {
                _emptyAt = Environment.TickCount64;
            }
        }
        if (answer == ShardAnswer.Reserved || changed)
        {
            await WriteAsync();
        }
        if (answer == ShardAnswer.Reserved && !hadLive)
        {
            await this.RegisterOrUpdateReminder(CheckReminder, Options.CheckPeriod, Options.CheckPeriod);
        }
        return answer switch
        {
            ShardAnswer.Reserved => StockAnswer.Reserved,
            ShardAnswer.Closed => StockAnswer.Closed,
            _ => StockAnswer.Dry,
        };
    }

    public async Task ConfirmAsync(string reservationId)
    {
        if (_stock.Confirm(reservationId))
        {
            await WriteAsync();
        }
    }

    public async Task ReleaseAsync(string reservationId)
    {
        if (_stock.Release(reservationId))
        {
            _emptyAt = null;
            await WriteAsync();
        }
    }

    public Task<ShardCounts> GetCountsAsync() => Task.FromResult(_stock.Counts);

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (state.State.Live.Count == 0)
        {
            if (await this.GetReminder(CheckReminder) is { } reminder)
            {
                await this.UnregisterReminder(reminder);
            }
            return;
        }
        await CheckAsync();
    }

    private async Task TickAsync(CancellationToken cancellationToken)
    {
        if (_changedSinceSync || _stock.Free > 0 || !state.State.Synced)
        {
            if (await SyncAsync(wantsMore: false))
            {
                await WriteAsync();
            }
        }
        if (Now - _checkedAt >= Options.CheckPeriod)
        {
            await CheckAsync();
        }
    }

    /// <summary>Reports to the campaign and takes in its answer (a grant, a give-back, the active window).</summary>
    private async Task<bool> SyncAsync(bool wantsMore)
    {
        var grant = await GrainFactory.GetGrain<ICampaignGrain>(_campaignId).SyncShardAsync(_index, _stock.Report(wantsMore));
        var changed = _stock.Apply(grant);
        _changedSinceSync = changed && grant.GiveBack > 0;
        return changed;
    }

    /// <summary>Asks the groups of the reservations not heard of for <see cref="StockOptions.CheckAfter"/> whether
    /// they still hold them: a unit whose hold was never stored, or whose release or sale was lost, comes back.</summary>
    private async Task CheckAsync()
    {
        _checkedAt = Now;
        var changed = false;
        foreach (var reservationId in _stock.ToCheck(Now, Options.CheckAfter, Options.MaxChecks))
        {
            var status = await GrainFactory.GetGrain<IOrderGrain>(ShardStock.GroupOf(reservationId)).GetStockStatusAsync(reservationId, null);
            changed |= _stock.Checked(reservationId, status, Now);
        }
        if (changed)
        {
            await WriteAsync();
        }
    }

    private async Task WriteAsync()
    {
        _changedSinceSync = true;
        await state.WriteOrReloadAsync(this);
    }
}

using GroupPay.Grains.Referrals;
using Npgsql;
using NpgsqlTypes;
using Orleans.Serialization;

namespace GroupPay.Grains.Archive;

/// <summary>A user's record as archived: their state (with <see cref="ReferralState.ArchivedAt"/> set) and when.</summary>
public sealed record ArchivedUser(ReferralState State, DateTimeOffset ArchivedAt);

/// <summary>One archive write of a user: their record as it is now, and a batch of their rewards and invitees that
/// changed since the last one (the whole ledger arrives over several writes: docs/retention.md).</summary>
public sealed record UserArchiveBatch(
    string Openid,
    ReferralState State,
    long InvitedCount,
    DateTimeOffset ArchivedAt,
    IReadOnlyList<StoredReward> Rewards,
    IReadOnlyList<string> Invitees);

/// <summary>Where users' records and reward ledgers are kept once they leave the grain store (docs/retention.md).</summary>
public interface IUserArchive
{
    /// <summary>False when no archive is configured: users then stay in the grain store for good.</summary>
    bool IsEnabled { get; }

    /// <summary>Stores (or replaces) the user's record and the batch's rewards and invitees, in one transaction;
    /// idempotent.</summary>
    Task StoreAsync(UserArchiveBatch batch);

    /// <summary>The user as archived, or null.</summary>
    Task<ArchivedUser?> FindAsync(string openid);

    /// <summary>Up to <paramref name="take"/> of the user's archived rewards with a sequence above
    /// <paramref name="afterSequence"/>, oldest first.</summary>
    Task<IReadOnlyList<StoredReward>> RewardsAsync(string openid, long afterSequence, int take);

    /// <summary>Up to <paramref name="take"/> of the user's archived invitees after <paramref name="after"/> (ordinal
    /// order; null for the first).</summary>
    Task<IReadOnlyList<string>> InviteesAsync(string openid, string? after, int take);

    /// <summary>The archived owner of a referral code, or null.</summary>
    Task<string?> CodeOwnerAsync(string referralCode);
}

/// <summary>No archive configured.</summary>
public sealed class NoUserArchive : IUserArchive
{
    public static readonly NoUserArchive Instance = new();

    public bool IsEnabled => false;

    public Task StoreAsync(UserArchiveBatch batch) =>
        throw new InvalidOperationException("No archive is configured (ConnectionStrings:Archive).");

    public Task<ArchivedUser?> FindAsync(string openid) => Task.FromResult<ArchivedUser?>(null);

    public Task<IReadOnlyList<StoredReward>> RewardsAsync(string openid, long afterSequence, int take) => Task.FromResult<IReadOnlyList<StoredReward>>([]);

    public Task<IReadOnlyList<string>> InviteesAsync(string openid, string? after, int take) => Task.FromResult<IReadOnlyList<string>>([]);

    public Task<string?> CodeOwnerAsync(string referralCode) => Task.FromResult<string?>(null);
}

/// <summary>
/// The users' archive in the same PostgreSQL as the groups' (<c>ConnectionStrings:Archive</c>): one row per user in
/// <c>grouppay_users</c> (their profile and totals in columns, their whole state in Orleans' binary format for GroupPay to
/// read back), one row per reward in <c>grouppay_rewards</c> (what finance reads: every reward and its status) and one
/// per invitee in <c>grouppay_invitees</c>. Upserted by key; the tables are created on first use.
/// </summary>
public sealed class PostgresUserArchive(ArchiveDatabase database, Serializer serializer) : IUserArchive
{
    private const string Schema = """
        CREATE TABLE IF NOT EXISTS grouppay_users (
          openid text PRIMARY KEY,
          referral_code text UNIQUE,
          inviter_openid text,
          has_paid boolean NOT NULL,
          first_payment_id text,
          first_payment_campaign text,
          invited_count bigint NOT NULL,
          reward_count bigint NOT NULL,
          pending_fen bigint NOT NULL,
          granted_fen bigint NOT NULL,
          reversed_fen bigint NOT NULL,
          archived_at timestamptz NOT NULL,
          state bytea NOT NULL);
        CREATE INDEX IF NOT EXISTS grouppay_users_inviter ON grouppay_users (inviter_openid);
        CREATE TABLE IF NOT EXISTS grouppay_rewards (
          openid text NOT NULL,
          payment_id text NOT NULL,
          sequence bigint NOT NULL,
          campaign_id text NOT NULL,
          amount_fen bigint NOT NULL,
          status text NOT NULL,
          earned_at timestamptz NOT NULL,
          grant_at timestamptz,
          PRIMARY KEY (openid, payment_id));
        CREATE INDEX IF NOT EXISTS grouppay_rewards_sequence ON grouppay_rewards (openid, sequence);
        CREATE INDEX IF NOT EXISTS grouppay_rewards_payment ON grouppay_rewards (payment_id);
        CREATE TABLE IF NOT EXISTS grouppay_invitees (
          inviter_openid text NOT NULL,
          invitee_openid text NOT NULL,
          PRIMARY KEY (inviter_openid, invitee_openid));
        """;

    public bool IsEnabled => true;

    /// <summary>The archive in <paramref name="database"/>, or <see cref="NoUserArchive"/> when none is configured.</summary>
    public static IUserArchive From(ArchiveDatabase database, Serializer serializer)
    {
        ArgumentNullException.ThrowIfNull(database);
        return database.IsConfigured ? new PostgresUserArchive(database, serializer) : NoUserArchive.Instance;
    }

    public async Task StoreAsync(UserArchiveBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var state = batch.State;
        var dataSource = await database.WithTablesAsync(Schema);
        await using var connection = await dataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await using (var user = new NpgsqlCommand("""
            INSERT INTO grouppay_users VALUES (@openid, @code, @inviter, @paid, @firstPayment, @firstCampaign, @invited, @rewards,
              @pending, @granted, @reversed, @archived, @state)
            ON CONFLICT (openid) DO UPDATE SET referral_code = EXCLUDED.referral_code, inviter_openid = EXCLUDED.inviter_openid,
              has_paid = EXCLUDED.has_paid, first_payment_id = EXCLUDED.first_payment_id, first_payment_campaign = EXCLUDED.first_payment_campaign,
              invited_count = EXCLUDED.invited_count, reward_count = EXCLUDED.reward_count, pending_fen = EXCLUDED.pending_fen,
              granted_fen = EXCLUDED.granted_fen, reversed_fen = EXCLUDED.reversed_fen, archived_at = EXCLUDED.archived_at, state = EXCLUDED.state
            """, connection, transaction))
        {
            user.Parameters.AddWithValue("openid", batch.Openid);
            user.Parameters.AddWithValue("code", (object?)state.ReferralCode ?? DBNull.Value);
            user.Parameters.AddWithValue("inviter", (object?)state.InviterOpenid ?? DBNull.Value);
            user.Parameters.AddWithValue("paid", state.HasPaid);
            user.Parameters.AddWithValue("firstPayment", (object?)state.FirstPaymentId ?? DBNull.Value);
            user.Parameters.AddWithValue("firstCampaign", (object?)state.FirstPaymentCampaign ?? DBNull.Value);
            user.Parameters.AddWithValue("invited", batch.InvitedCount);
            user.Parameters.AddWithValue("rewards", state.RewardCount);
            user.Parameters.AddWithValue("pending", state.PendingFen);
            user.Parameters.AddWithValue("granted", state.GrantedFen);
            user.Parameters.AddWithValue("reversed", state.ReversedFen);
            user.Parameters.AddWithValue("archived", batch.ArchivedAt.ToUniversalTime());
            user.Parameters.Add(new NpgsqlParameter("state", NpgsqlDbType.Bytea) { Value = Archived(state) });
            await user.ExecuteNonQueryAsync();
        }
        if (batch.Rewards.Count > 0)
        {
            await using var rewards = new NpgsqlCommand("""
                INSERT INTO grouppay_rewards (openid, payment_id, sequence, campaign_id, amount_fen, status, earned_at, grant_at)
                SELECT @openid, * FROM unnest(@payment, @sequence, @campaign, @amount, @status, @earned, @grant)
                ON CONFLICT (openid, payment_id) DO UPDATE SET sequence = EXCLUDED.sequence, campaign_id = EXCLUDED.campaign_id,
                  amount_fen = EXCLUDED.amount_fen, status = EXCLUDED.status, earned_at = EXCLUDED.earned_at, grant_at = EXCLUDED.grant_at
                """, connection, transaction);
            rewards.Parameters.AddWithValue("openid", batch.Openid);
            rewards.Parameters.AddWithValue("payment", batch.Rewards.Select(r => r.PaymentId).ToArray());
            rewards.Parameters.AddWithValue("sequence", batch.Rewards.Select(r => r.Sequence).ToArray());
            rewards.Parameters.AddWithValue("campaign", batch.Rewards.Select(r => r.CampaignId).ToArray());
            rewards.Parameters.AddWithValue("amount", batch.Rewards.Select(r => r.AmountFen).ToArray());
            rewards.Parameters.AddWithValue("status", batch.Rewards.Select(r => StatusName(r.Status)).ToArray());
            rewards.Parameters.AddWithValue("earned", batch.Rewards.Select(r => r.EarnedAt.UtcDateTime).ToArray());
            rewards.Parameters.Add(new NpgsqlParameter("grant", NpgsqlDbType.Array | NpgsqlDbType.TimestampTz)
            {
                Value = batch.Rewards.Select(r => r.GrantAt is { } at ? (object)at.UtcDateTime : DBNull.Value).ToArray(),
            });
            await rewards.ExecuteNonQueryAsync();
        }
        if (batch.Invitees.Count > 0)
        {
            await using var invitees = new NpgsqlCommand("""
                INSERT INTO grouppay_invitees (inviter_openid, invitee_openid) SELECT @openid, unnest(@invitees)
                ON CONFLICT DO NOTHING
                """, connection, transaction);
            invitees.Parameters.AddWithValue("openid", batch.Openid);
            invitees.Parameters.AddWithValue("invitees", batch.Invitees.ToArray());
            await invitees.ExecuteNonQueryAsync();
        }
        await transaction.CommitAsync();
    }

    /// <summary>The state as the archive keeps it: without the grain's own bookkeeping (its pending effects, the
    /// reminder), which a restored user starts without.</summary>
    private byte[] Archived(ReferralState state)
    {
        var copy = serializer.Deserialize<ReferralState>(serializer.SerializeToArray(state))!;
        copy.Outbox = [];
        copy.WakeAt = null;
        copy.ArchivedAt = null;
        return serializer.SerializeToArray(copy);
    }

    /// <summary>The status as finance reads it (<c>pending</c>, <c>granted</c>, <c>reversed</c>: the API's names).</summary>
    private static string StatusName(RewardStatus status) => status.ToString().ToLowerInvariant();

    private static RewardStatus ParseStatus(string name) => Enum.Parse<RewardStatus>(name, ignoreCase: true);

    public async Task<ArchivedUser?> FindAsync(string openid)
    {
        var dataSource = await database.WithTablesAsync(Schema);
        await using var command = dataSource.CreateCommand("SELECT state, archived_at FROM grouppay_users WHERE openid = @openid");
        command.Parameters.AddWithValue("openid", openid);
        await using var reader = await command.ExecuteReaderAsync();
        if (!await reader.ReadAsync())
        {
            return null;
        }
        var state = serializer.Deserialize<ReferralState>(reader.GetFieldValue<byte[]>(0))!;
        var archivedAt = new DateTimeOffset(reader.GetFieldValue<DateTime>(1), TimeSpan.Zero);
        state.ArchivedAt = archivedAt;
        return new ArchivedUser(state, archivedAt);
    }

    public async Task<IReadOnlyList<StoredReward>> RewardsAsync(string openid, long afterSequence, int take)
    {
        var dataSource = await database.WithTablesAsync(Schema);
        await using var command = dataSource.CreateCommand("""
            SELECT payment_id, sequence, campaign_id, amount_fen, status, earned_at, grant_at FROM grouppay_rewards
            WHERE openid = @openid AND sequence > @after ORDER BY sequence LIMIT @take
            """);
        command.Parameters.AddWithValue("openid", openid);
        command.Parameters.AddWithValue("after", afterSequence);
        command.Parameters.AddWithValue("take", take);
        await using var reader = await command.ExecuteReaderAsync();
        var rewards = new List<StoredReward>();
        while (await reader.ReadAsync())
        {
            rewards.Add(new StoredReward(
                reader.GetInt64(1),
                reader.GetString(0),
                reader.GetString(2),
                reader.GetInt64(3),
                ParseStatus(reader.GetString(4)),
                new DateTimeOffset(reader.GetFieldValue<DateTime>(5), TimeSpan.Zero),
                reader.IsDBNull(6) ? null : new DateTimeOffset(reader.GetFieldValue<DateTime>(6), TimeSpan.Zero)));
        }
        return rewards;
    }

    public async Task<IReadOnlyList<string>> InviteesAsync(string openid, string? after, int take)
    {
        var dataSource = await database.WithTablesAsync(Schema);
        await using var command = dataSource.CreateCommand("""
            SELECT invitee_openid FROM grouppay_invitees WHERE inviter_openid = @openid AND invitee_openid > @after
            ORDER BY invitee_openid LIMIT @take
            """);
        command.Parameters.AddWithValue("openid", openid);
        command.Parameters.AddWithValue("after", after ?? "");
        command.Parameters.AddWithValue("take", take);
        await using var reader = await command.ExecuteReaderAsync();
        var invitees = new List<string>();
        while (await reader.ReadAsync())
        {
            invitees.Add(reader.GetString(0));
        }
        return invitees;
    }

    public async Task<string?> CodeOwnerAsync(string referralCode)
    {
        var dataSource = await database.WithTablesAsync(Schema);
        await using var command = dataSource.CreateCommand("SELECT openid FROM grouppay_users WHERE referral_code = @code");
        command.Parameters.AddWithValue("code", referralCode);
        return await command.ExecuteScalarAsync() as string;
    }
}

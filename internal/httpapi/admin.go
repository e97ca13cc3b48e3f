package httpapi

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/vippsmgmt/vippsmgmt"
	"github.com/vippsmgmt/vippsmgmt/internal/openapi"
)

// The operator API (/admin/v1) does what the console does, for scripts and tests. The admin-token
// check happens before routing (Server.authenticate).

func (s *Server) clockOut() openapi.AdminClock {
	return openapi.AdminClock{Now: s.clock.Now(), Offset: s.clock.Offset().String()}
}

func (s *Server) sandboxOnly() error {
	if !s.cfg.Sandbox {
		return vippsmgmt.Errorf(vippsmgmt.ENOTFOUND, "The clock control exists only in sandbox mode (--sandbox).")
	}
	return nil
}

// AdminGetClock serves GET /admin/v1/clock.
func (s *Server) AdminGetClock(ctx context.Context, _ openapi.AdminGetClockRequestObject) (openapi.AdminGetClockResponseObject, error) {
	if err := s.sandboxOnly(); err != nil {
		return nil, err
	}
	if err := s.clock.Refresh(ctx, s.store); err != nil {
		return nil, err
	}
	return openapi.AdminGetClock200JSONResponse(s.clockOut()), nil
}

// AdminAdvanceClock serves POST /admin/v1/clock: moves the server's clock forward, or back to
// real time, for every process on the database.
func (s *Server) AdminAdvanceClock(ctx context.Context, req openapi.AdminAdvanceClockRequestObject) (openapi.AdminAdvanceClockResponseObject, error) {
	if err := s.sandboxOnly(); err != nil {
		return nil, err
	}
	if req.Body == nil {
		return nil, vippsmgmt.Errorf(vippsmgmt.EINVALID, "advance: is required")
	}
	reset := req.Body.Reset != nil && *req.Body.Reset
	switch {
	case req.Body.Advance != nil && req.Body.Reset != nil:
		return nil, vippsmgmt.InvalidFields([]vippsmgmt.FieldError{{Field: "reset", Problem: "must not be given with advance: give exactly one of them"}})
	case req.Body.Reset != nil && !reset:
		return nil, vippsmgmt.InvalidFields([]vippsmgmt.FieldError{{Field: "reset", Problem: "must be true; to move the clock forward give advance instead"}})
	case reset:
		if err := s.clock.Reset(ctx, s.store); err != nil {
			return nil, err
		}
		return openapi.AdminAdvanceClock200JSONResponse(s.clockOut()), nil
	case req.Body.Advance == nil:
		return nil, vippsmgmt.InvalidFields([]vippsmgmt.FieldError{{Field: "advance", Problem: "is required (or reset: true)"}})
	}
	d, err := time.ParseDuration(*req.Body.Advance)
	if err != nil || d <= 0 || d > 100*365*24*time.Hour {
		return nil, vippsmgmt.InvalidFields([]vippsmgmt.FieldError{{Field: "advance", Problem: "must be a positive duration such as 90m or 337h"}})
	}
	if err := s.advanceClock(ctx, d); err != nil {
		return nil, err
	}
	return openapi.AdminAdvanceClock200JSONResponse(s.clockOut()), nil
}

// nextCursor is the Vippsmgmt-Next-Cursor header of a page: absent on the last page.
func nextCursor(c string) *string {
	if c == "" {
		return nil
	}
	return &c
}

// AdminListNotifications serves GET /admin/v1/notifications.
func (s *Server) AdminListNotifications(ctx context.Context, req openapi.AdminListNotificationsRequestObject) (openapi.AdminListNotificationsResponseObject, error) {
	p, err := vippsmgmt.NotificationList.ParsePage(req.Params.Limit, req.Params.Cursor)
	if err != nil {
		return nil, err
	}
	ns, err := s.store.FindNotifications(ctx, p.Fetch())
	if err != nil {
		return nil, err
	}
	ns, next := vippsmgmt.NotificationList.Cut(p, ns)
	out := openapi.AdminListNotifications200JSONResponse{Body: make([]openapi.AdminNotification, 0, len(ns))}
	out.Headers.VippsmgmtNextCursor = nextCursor(next)
	for _, n := range ns {
		w := openapi.AdminNotification{
			Id: n.ID, ProductOrderId: uuid.MustParse(n.OrderID), Recipient: openapi.AdminNotificationRecipient(n.Recipient),
			RecipientName: n.RecipientName, Subject: n.Subject, Body: n.Body, CreatedAt: n.CreatedAt, SentAt: n.SentAt,
		}
		if n.LastError != "" {
			w.LastError = &n.LastError
		}
		out.Body = append(out.Body, w)
	}
	return out, nil
}

// AdminListRequests serves GET /admin/v1/requests: the request log.
func (s *Server) AdminListRequests(ctx context.Context, req openapi.AdminListRequestsRequestObject) (openapi.AdminListRequestsResponseObject, error) {
	p, err := RequestList.ParsePage(req.Params.Limit, req.Params.Cursor)
	if err != nil {
		return nil, err
	}
	recs, next := RequestList.Cut(p, s.requests.Page(p.Fetch()))
	out := openapi.AdminListRequests200JSONResponse{Body: make([]openapi.AdminRequest, 0, len(recs))}
	out.Headers.VippsmgmtNextCursor = nextCursor(next)
	opt := func(s string) *string {
		if s == "" {
			return nil
		}
		return &s
	}
	for _, r := range recs {
		out.Body = append(out.Body, openapi.AdminRequest{
			Time: r.Time, RequestId: r.RequestID, Caller: r.Caller, Method: r.Method, Route: r.Route, Status: r.Status,
			LatencyMs: r.LatencyMs, SystemName: opt(r.SystemName), SystemVersion: opt(r.SystemVersion),
			PluginName: opt(r.PluginName), PluginVersion: opt(r.PluginVersion),
			Injected: injectedOut(r.Injected), FaultRule: opt(r.FaultRule),
		})
	}
	return out, nil
}
